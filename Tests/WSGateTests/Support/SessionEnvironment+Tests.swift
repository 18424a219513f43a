@testable import WSGate

extension SessionEnvironment {
    /// A registry, counters and zlib state of their own, traffic counted, no access log.
    static func standalone() -> SessionEnvironment {
        SessionEnvironment(
            sessions: SessionRegistry(),
            stats: StatsLoopState(),
            compression: CompressionLoopState(),
            accessLog: nil,
            countsTraffic: true
        )
    }
}
