import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The HTTP/2 pools of one `websocket-h2` upstream, sharded per EventLoop (as Envoy's per-worker
/// pools): a session only ever uses the pools of its own loop, so the frame path never locks.
///
/// Finding the loop's pools takes a lock once per new session; the pools themselves are
/// loop-confined and read for stats by submitting a task to each loop.
final class HTTP2PoolSet: Sendable {
    private let configuration: UpstreamConfiguration
    private let tls: UpstreamTLSContext?
    private let logger: Logger
    private let loops = NIOLockedValueBox<[ObjectIdentifier: (loop: any EventLoop, pools: NIOLoopBound<HTTP2LoopPools>)]>([:])
    private let isShutDown = NIOLockedValueBox(false)

    init(configuration: UpstreamConfiguration, tls: UpstreamTLSContext?, logger: Logger) {
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
    }

    /// The calling loop's pools, created (and started) on first use. Call on `eventLoop`.
    func pools(on eventLoop: any EventLoop) -> HTTP2LoopPools {
        eventLoop.preconditionInEventLoop()
        let key = ObjectIdentifier(eventLoop)
        if let existing = self.loops.withLockedValue({ $0[key] }) {
            return existing.pools.value
        }
        let pools = HTTP2LoopPools(
            pools: self.configuration.endpoints.map { endpoint in
                HTTP2ConnectionPool(
                    settings: HTTP2PoolSettings(
                        upstream: self.configuration.name,
                        endpoint: endpoint,
                        tls: self.tls,
                        connectTimeout: TimeAmount(self.configuration.connectTimeout),
                        pool: self.configuration.pool,
                        logger: self.logger
                    ),
                    eventLoop: eventLoop
                )
            },
            balance: self.configuration.balance
        )
        self.loops.withLockedValue { $0[key] = (eventLoop, NIOLoopBound(pools, eventLoop: eventLoop)) }
        for pool in pools.pools {
            pool.start()
            if self.isShutDown.withLockedValue({ $0 }) { pool.shutdown() }
        }
        return pools
    }

    /// Opens the warm connections (`connections_per_loop`) on every loop of `group`.
    func warmUp(group: any EventLoopGroup) {
        for loop in group.makeIterator() {
            loop.execute { _ = self.pools(on: loop) }
        }
    }

    /// Stops every pool: waiting sessions fail, idle connections close, busy ones close after their
    /// last stream; nothing is dialed any more.
    func shutdown() {
        self.isShutDown.withLockedValue { $0 = true }
        for (loop, pools) in self.loops.withLockedValue({ Array($0.values) }) {
            loop.execute {
                for pool in pools.value.pools { pool.shutdown() }
            }
        }
    }

    /// Per endpoint, summed over the loops.
    func stats() async -> [UpstreamEndpointStats] {
        var byEndpoint: [String: UpstreamEndpointStats] = [:]
        for (loop, pools) in self.loops.withLockedValue({ Array($0.values) }) {
            let perLoop = try? await loop.submit { pools.value.pools.map(\.stats) }.get()
            for stats in perLoop ?? [] {
                byEndpoint[stats.endpoint] = byEndpoint[stats.endpoint].map { $0 + stats } ?? stats
            }
        }
        return self.configuration.endpoints.map { byEndpoint[$0.description] ?? UpstreamEndpointStats(endpoint: $0.description) }
    }
}
