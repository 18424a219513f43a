import NIOPosix

/// What one gateway keeps on one EventLoop: its live sessions, its counters, its zlib state and its
/// upstreams' openers.
///
/// Each EventLoop thread holds one per gateway, keyed by the gateway's id (the gateways of a process
/// share its EventLoops, as in the tests), used only on that thread, so none of it needs a lock. A
/// connection gets its loop's state once, at accept (``sessionEnvironment(accessLog:countsTraffic:)``);
/// readers run on each loop (``Gateway/onEachEventLoop(_:)``).
final class GatewayLoopState {
    let sessions = SessionRegistry()
    let stats = StatsLoopState()
    let compression = CompressionLoopState()
    let upstreams = UpstreamLoopState()
    let httpProxies = HTTPProxyRegistry()
    let http2Connections = HTTP2ConnectionRegistry()

    private final class PerThread {
        var states: [UInt64: GatewayLoopState] = [:]
    }

    /// What the sessions of this gateway on this loop share.
    func sessionEnvironment(accessLog: AccessLog?, countsTraffic: Bool) -> SessionEnvironment {
        SessionEnvironment(
            sessions: self.sessions,
            stats: self.stats,
            compression: self.compression,
            accessLog: accessLog,
            countsTraffic: countsTraffic
        )
    }

    /// Unchecked on purpose: each thread only ever reads and writes its own value.
    nonisolated(unsafe) private static let perThread = ThreadSpecificVariable<PerThread>()

    /// The state of the gateway owning `services` on the calling thread's EventLoop, created on first use.
    static func current(for services: GatewayServices) -> GatewayLoopState {
        let perThread: PerThread
        if let existing = Self.perThread.currentValue {
            perThread = existing
        } else {
            perThread = PerThread()
            Self.perThread.currentValue = perThread
        }
        // Not the object's address: a gateway made after another was freed could get the same one.
        let key = services.id
        if let state = perThread.states[key] { return state }
        let state = GatewayLoopState()
        perThread.states[key] = state
        return state
    }
}

@available(*, unavailable)
extension GatewayLoopState: Sendable {}
