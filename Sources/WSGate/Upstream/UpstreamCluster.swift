import Logging
import NIOCore
import Synchronization

/// A named upstream from the config: its configuration and its client TLS context. What its sessions
/// share on a loop (endpoint order and health, HTTP/2 pools) is that loop's ``UpstreamLoopState``.
final class UpstreamCluster: Sendable {
    let configuration: UpstreamConfiguration
    /// The client TLS context when the upstream has `tls`.
    let tls: UpstreamTLSContext?
    /// Where the pools log.
    let logger: Logger
    /// Unique in the process and growing: a cluster of a later reload has a higher one, so that a
    /// handshake still holding an earlier cluster cannot take the loop's opener back to it.
    let generation = UpstreamCluster.lastGeneration.wrappingAdd(1, ordering: .relaxed).newValue
    private static let lastGeneration = Atomic<UInt64>(0)

    init(configuration: UpstreamConfiguration, tls: UpstreamTLSContext? = nil, logger: Logger = Logger(label: "wsgate")) {
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
    }

    /// The forwarded-header policy of every request to this upstream, upgrade or plain HTTP.
    var forwardingPolicy: ForwardingPolicy {
        ForwardingPolicy(dropUnderscoreHeaders: self.configuration.dropUnderscoreHeaders)
    }

    /// A pooled connection for one proxied HTTP request, on the client's EventLoop, through that
    /// loop's opener of this upstream (the same endpoint order, health and back-off as WebSocket
    /// legs); `fresh` asks for a new connection.
    func openHTTP(
        fresh: Bool,
        upstreams: UpstreamLoopState,
        counters: UpstreamCounters,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<HTTPUpstreamLease> {
        guard self.configuration.protocol.serves.includes(.http) else {
            return eventLoop.makeFailedFuture(UpstreamError(.unreachable, "upstream \(self.configuration.name) serves no HTTP"))
        }
        return upstreams.opener(for: self, on: eventLoop).openHTTP(fresh: fresh, counters: counters)
    }

    /// Opens the upstream leg for a client's request, on the client's EventLoop, with that loop's
    /// `upstreams`; attempts, their time and the open connections are counted in `counters` (the
    /// gateway's, on that loop).
    func open(
        _ request: ForwardedRequest,
        offeredSubprotocols: [String],
        upstreams: UpstreamLoopState,
        counters: UpstreamCounters,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        switch self.configuration.protocol {
        case .echo:
            return eventLoop.makeSucceededFuture(UpstreamLink(channel: nil, response: nil, endpoint: "echo"))
        case .websocket, .websocketH2, .http:
            let fields = self.forwardingPolicy.fields(for: request)
            return upstreams.opener(for: self, on: eventLoop).open(
                fields,
                offeredSubprotocols: offeredSubprotocols,
                tls: self.tls,
                counters: counters
            )
        }
    }
}
