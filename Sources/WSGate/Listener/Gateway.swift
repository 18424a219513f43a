import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The running gateway: its WebSocket listeners and its admin listener, all serving one
/// `ActiveConfiguration`.
public final class Gateway: Sendable {
    private let group: any EventLoopGroup
    let logger: Logger
    /// What new connections are served with; swapped whole by a certificate reload.
    let active: NIOLockedValueBox<ActiveConfiguration>
    /// The task checking the TLS files for changes (``Gateway/startWatchingCertificates()``).
    let certificateWatcher = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let boundAddresses = NIOLockedValueBox<[String: SocketAddress]>([:])
    private let tlsFailures = NIOLockedValueBox<[String: TLSHandshakeFailures]>([:])

    /// Name under which the admin listener's address is recorded in `listenerAddresses`.
    public static let adminListenerName = "admin"

    /// Prepares the gateway without binding anything: reads every certificate and key file the
    /// configuration names and builds the TLS contexts (blocking disk I/O; call it off the event loops).
    ///
    /// - Throws: ``ConfigurationError`` naming each unusable file at the configuration line that names it.
    public init(configuration: GatewayConfiguration, group: any EventLoopGroup, logger: Logger) throws(ConfigurationError) {
        self.group = group
        self.logger = logger
        self.active = NIOLockedValueBox(try ActiveConfiguration(configuration, logger: logger))
        for upstream in configuration.upstreams.values.sorted(by: { $0.name < $1.name }) where upstream.tls?.verify == false {
            logger.warning(
                "TLS certificate verification is off for this upstream (tls.verify: false)",
                metadata: ["wsgate.upstream": "\(upstream.name)"]
            )
        }
    }

    /// The bound address of each listener by name (useful when the config asks for port 0).
    public var listenerAddresses: [String: SocketAddress] {
        self.boundAddresses.withLockedValue { $0 }
    }

    /// Failed TLS handshakes per TLS listener name since start (plain HTTP on a TLS port, protocol or
    /// certificate refusals, clients that gave up or timed out). Each is also logged at debug.
    public var failedTLSHandshakes: [String: Int] {
        self.tlsFailures.withLockedValue { $0.mapValues(\.count) }
    }

    /// The pools of every `websocket-h2` upstream, per endpoint, by upstream name: connections open,
    /// streams active, streams opened/failed/refused, GOAWAYs, connect failures and health.
    ///
    /// Each EventLoop's pools are read by a task submitted to that loop (nothing is locked on the
    /// frame path), so call it from outside the loops, e.g. from the admin endpoint's handler via a
    /// `Task`. Upstreams of other protocols are absent.
    public func upstreamPoolStats() async -> [String: [UpstreamEndpointStats]] {
        let clusters = self.active.withLockedValue { $0.clusters }
        var result: [String: [UpstreamEndpointStats]] = [:]
        for (name, cluster) in clusters {
            guard let pools = cluster.http2Pools else { continue }
            result[name] = await pools.stats()
        }
        return result
    }

    /// Binds every listener and the admin listener.
    public func start() async throws {
        let configuration = self.active.withLockedValue { $0.configuration }
        do {
            for listener in configuration.listeners {
                let channel = try await self.bindWebSocketListener(listener)
                self.record(channel, name: listener.name)
            }
            let admin = try await AdminServer.bind(configuration.admin.address, group: self.group)
            self.record(admin, name: Self.adminListenerName)
            for cluster in self.active.withLockedValue({ Array($0.clusters.values) }) {
                cluster.http2Pools?.warmUp(group: self.group)
            }
            self.startWatchingCertificates()
        } catch {
            try? await self.shutdown()
            throw error
        }
    }

    /// Closes the listeners. Live sessions are not touched; the HTTP/2 upstream pools dial no more
    /// and close each connection once its last session ends.
    public func shutdown() async throws {
        self.certificateWatcher.withLockedValue { $0?.cancel() }
        for cluster in self.active.withLockedValue({ Array($0.clusters.values) }) {
            cluster.http2Pools?.shutdown()
        }
        let channels = self.channels.withLockedValue { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in channels {
            try? await channel.close()
        }
    }

    private func record(_ channel: any Channel, name: String) {
        self.channels.withLockedValue { $0.append(channel) }
        if let address = channel.localAddress {
            self.boundAddresses.withLockedValue { $0[name] = address }
            self.logger.info("listening", metadata: ["wsgate.listener": "\(name)", "wsgate.address": "\(address)"])
        }
    }

    private func bindWebSocketListener(_ listener: ListenerConfiguration) async throws -> any Channel {
        let active = self.active
        let name = listener.name
        let isTLS = listener.tls != nil
        let failures = isTLS ? TLSHandshakeFailures(listener: name, logger: self.logger) : nil
        if let failures {
            self.tlsFailures.withLockedValue { $0[name] = failures }
        }
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let current = active.withLockedValue { $0 }
                    if isTLS {
                        // Never serve plain text on a TLS listener, whatever happens to the configuration.
                        guard let tls = current.listenerTLS[name] else { throw ChannelError.ioOnClosedChannel }
                        try sync.addHandler(NIOSSLServerHandler(context: tls.sslContext), name: ProxySession.ClientPipelineNames.tls)
                    }
                    try sync.addHandler(RequestHeadLimitHandler(maxHeaderBytes: current.configuration.defaults.limits.maxHeaderBytes))
                    try sync.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                        name: ProxySession.ClientPipelineNames.decoder
                    )
                    try sync.addHandler(HTTPResponseEncoder(), name: ProxySession.ClientPipelineNames.encoder)
                    try sync.addHandler(
                        ClientHandshakeHandler(active: current, tlsFailures: failures),
                        name: ClientHandshakeHandler.name
                    )
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
    }
}
