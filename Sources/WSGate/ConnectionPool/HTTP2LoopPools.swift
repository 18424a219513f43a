import NIOCore

/// One upstream's pools on one EventLoop, one per endpoint, and how a new session picks among them.
/// Loop-confined.
final class HTTP2LoopPools {
    let pools: [HTTP2ConnectionPool]
    private let balance: UpstreamBalance
    private var nextIndex = 0

    init(pools: [HTTP2ConnectionPool], balance: UpstreamBalance) {
        self.pools = pools
        self.balance = balance
    }

    /// The order in which a new session tries the endpoints: healthy ones first (by `balance`), then
    /// the ones in back-off, as a last resort.
    func candidates() -> [HTTP2ConnectionPool] {
        guard !self.pools.isEmpty else { return [] }
        let first = self.nextIndex % self.pools.count
        self.nextIndex &+= 1
        var rotated = (0..<self.pools.count).map { self.pools[(first + $0) % self.pools.count] }
        if self.balance == .leastConnections {
            // Stable: equal counts keep the rotation, so ties still spread.
            rotated = rotated.enumerated().sorted { ($0.element.activeStreams, $0.offset) < ($1.element.activeStreams, $1.offset) }
                .map(\.element)
        }
        return rotated.filter(\.isHealthy) + rotated.filter { !$0.isHealthy }
    }
}

@available(*, unavailable)
extension HTTP2LoopPools: Sendable {}
