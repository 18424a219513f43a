import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The running gateway: its WebSocket listeners and its admin listener, all serving one
/// `ActiveConfiguration`.
public final class Gateway: Sendable {
    let group: any EventLoopGroup
    let logger: Logger
    /// What new connections are served with; swapped whole by a certificate reload.
    let active: NIOLockedValueBox<ActiveConfiguration>
    /// The task checking the TLS files for changes (``Gateway/startWatchingCertificates()``).
    let certificateWatcher = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let boundAddresses = NIOLockedValueBox<[String: SocketAddress]>([:])
    private let tlsFailures = NIOLockedValueBox<[String: TLSHandshakeFailures]>([:])
    /// The connection limiter and the access log, kept across reloads.
    let services: GatewayServices
    /// What `/stats` reports about the configuration in use.
    let configurationStatus = NIOLockedValueBox(ConfigurationStatus())
    /// Feeds `/metrics`.
    let metrics = MetricsExporter()
    /// When the gateway was created (uptime).
    let startedAt = NIODeadline.now()
    let startDate = Date()
    /// True once every listener is bound, false again from ``shutdown()`` on (`/readyz`).
    private let listening = NIOLockedValueBox(false)

    /// Name under which the admin listener's address is recorded in `listenerAddresses`.
    public static let adminListenerName = "admin"

    /// Prepares the gateway without binding anything: reads every certificate and key file the
    /// configuration names and builds the TLS contexts (blocking disk I/O; call it off the event loops).
    ///
    /// - Throws: ``ConfigurationError`` naming each unusable file at the configuration line that names it.
    public init(configuration: GatewayConfiguration, group: any EventLoopGroup, logger: Logger) throws(ConfigurationError) {
        self.group = group
        self.logger = logger
        self.active = NIOLockedValueBox(try ActiveConfiguration(configuration))
        do throws(AccessLogError) {
            self.services = GatewayServices(accessLog: try configuration.log.access.map(AccessLog.init))
        } catch {
            throw ConfigurationError(issues: [
                ConfigurationIssue(file: "configuration", line: 0, column: 0, keyPath: "log.access.destination", message: error.description)
            ])
        }
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

    /// Binds every listener and the admin listener.
    public func start() async throws {
        let configuration = self.active.withLockedValue { $0.configuration }
        do {
            for listener in configuration.listeners {
                let channel = try await self.bindWebSocketListener(listener)
                self.record(channel, name: listener.name)
            }
            let admin = try await AdminServer.bind(configuration.admin.address, group: self.group, service: AdminService(gateway: self))
            self.record(admin, name: Self.adminListenerName)
            self.startWatchingCertificates()
            self.listening.withLockedValue { $0 = true }
        } catch {
            try? await self.shutdown()
            throw error
        }
    }

    /// Closes the listeners. Live sessions are not touched.
    public func shutdown() async throws {
        self.listening.withLockedValue { $0 = false }
        self.certificateWatcher.withLockedValue { $0?.cancel() }
        let channels = self.channels.withLockedValue { channels in
            defer { channels.removeAll() }
            return channels
        }
        for channel in channels {
            try? await channel.close()
        }
        self.services.accessLog?.flush()
    }

    /// Whether every listener is bound (and ``shutdown()`` not called).
    var isListening: Bool {
        self.listening.withLockedValue { $0 }
    }

    /// Closes and reopens the access log file (`wsgate run` calls it on SIGUSR1, after a log rotation
    /// moved the file). Lines already queued go to the old file. Blocking: call off the event loops.
    public func reopenAccessLog() throws {
        try self.services.accessLog?.reopen()
    }

    /// Records a successful configuration (re)load for `/stats`: the version goes up by one.
    public func recordConfigurationLoad(hash: String?) {
        self.configurationStatus.withLockedValue { status in
            status = ConfigurationStatus(version: status.version + 1, hash: hash, loadedAt: Date(), lastReloadError: nil)
        }
    }

    /// Records a refused reload for `/stats` (`config.last_reload_error`); the configuration in use stays.
    public func recordReloadFailure(_ error: any Error) {
        self.configurationStatus.withLockedValue { $0.lastReloadError = "\(error)" }
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
        let services = self.services
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
                        ClientHandshakeHandler(active: current, services: services, tlsFailures: failures),
                        name: ClientHandshakeHandler.name
                    )
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
    }
}
