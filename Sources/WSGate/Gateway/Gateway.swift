import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The running gateway: its WebSocket listeners and its admin listener, all serving one
/// `ActiveConfiguration`, which a reload (``reload()``) replaces for new connections.
public final class Gateway: Sendable {
    let group: any EventLoopGroup
    let logger: Logger
    /// Everything about the gateway that changes while it runs, behind one lock (``State``).
    let state: NIOLockedValueBox<State>
    /// The file the configuration is read from, re-read by every reload; `nil` when the gateway was
    /// built from a value (a reload then only re-reads the TLS files).
    let configurationFile: String?
    /// The connection limiter and the access log, kept across reloads.
    let services: GatewayServices
    /// Feeds `/metrics`.
    let metrics = MetricsExporter()
    /// When the gateway was created (uptime).
    let startedAt = NIODeadline.now()
    let startDate = Date()
    /// Name under which the admin listener's address is recorded in `listenerAddresses`.
    static let adminListenerName = "admin"

    /// Prepares the gateway without binding anything: reads every certificate and key file the
    /// configuration names and builds the TLS contexts (blocking disk I/O; call it off the event loops).
    /// A gateway made this way has no file to reload: ``reload()`` re-reads only the TLS files.
    ///
    /// - Throws: ``ConfigurationError`` naming each unusable file at the configuration line that names it.
    public convenience init(
        configuration: GatewayConfiguration,
        group: any EventLoopGroup,
        logger: Logger
    ) throws(ConfigurationError) {
        try self.init(configuration: configuration, file: nil, group: group, logger: logger)
    }

    /// Reads the configuration file at `path` and prepares the gateway as
    /// ``init(configuration:group:logger:)`` does; ``reload()`` re-reads that file.
    ///
    /// - Throws: ``ConfigurationError`` listing every problem in the file, or each unusable TLS file.
    public convenience init(configurationFile path: String, group: any EventLoopGroup, logger: Logger) throws(ConfigurationError)
    {
        let file = try ConfigurationFile.load(path)
        try self.init(configuration: file.configuration, file: file, group: group, logger: logger)
    }

    private init(
        configuration: GatewayConfiguration,
        file: ConfigurationFile?,
        group: any EventLoopGroup,
        logger: Logger
    ) throws(ConfigurationError) {
        self.group = group
        self.logger = logger
        let active = try ActiveConfiguration(configuration, logger: logger)
        do throws(AccessLogError) {
            self.services = GatewayServices(
                memory: GatewayMemory(budget: MemoryBudget(limit: configuration.limits.maxMemory)),
                accessLog: try configuration.log.access.map(AccessLog.init)
            )
        } catch {
            throw ConfigurationError(issues: [
                ConfigurationIssue(
                    file: file?.path ?? "configuration",
                    line: 0,
                    column: 0,
                    keyPath: "log.access.destination",
                    message: error.description
                )
            ])
        }
        self.configurationFile = file?.path
        self.state = NIOLockedValueBox(
            State(
                active: active,
                status: ConfigurationStatus(version: 1, file: file?.path, sha256: file?.sha256, loadedAt: Date())
            )
        )
        for upstream in configuration.upstreams.values.sorted(by: { $0.name < $1.name }) where upstream.tls?.verify == false {
            logger.warning(
                "TLS certificate verification is off for this upstream (tls.verify: false)",
                metadata: ["wsgate.upstream": "\(upstream.name)"]
            )
        }
    }

    /// The bound address of each listener by name (useful when the config asks for port 0).
    var listenerAddresses: [String: SocketAddress] {
        self.state.withLockedValue { $0.boundAddresses }
    }

    /// Failed TLS handshakes per TLS listener name since start (plain HTTP on a TLS port, protocol or
    /// certificate refusals, clients that gave up or timed out). Each is also logged at debug.
    var failedTLSHandshakes: [String: Int] {
        self.state.withLockedValue { $0.tlsFailures.mapValues(\.count) }
    }

    /// The served configuration's version, file digest and load time, and the last reload error.
    var configurationStatus: ConfigurationStatus {
        self.state.withLockedValue { $0.status }
    }

    /// Raises the open-file limit (``OpenFileLimit``), then binds every listener and the admin listener
    /// with `bindAdmin` (the admin layer's ``start()``), which is called once the listeners are bound
    /// and the files watched: whoever waits for the admin listener may edit the files next.
    func start(bindingAdmin bindAdmin: (Gateway) async throws -> any Channel) async throws {
        let files = OpenFileLimit.raiseSoftToHard()
        self.logger.info(
            "open files",
            metadata: ["wsgate.open_files.soft": "\(files.soft)", "wsgate.open_files.hard": "\(files.hard)"]
        )
        let configuration = self.activeConfiguration.configuration
        do {
            for listener in configuration.listeners {
                try await self.bind(listener)
            }
            // Before the admin listener says it listens: whoever waits for that may edit the files next.
            self.startWatching()
            let admin = try await bindAdmin(self)
            self.state.withLockedValue { $0.adminChannel = admin }
            self.recordAddress(admin, name: Self.adminListenerName)
            await self.adoptUpstreams(self.activeConfiguration)
            self.services.memory.start(group: self.group, services: self.services)
            self.state.withLockedValue { $0.listening = true }
        } catch {
            try? await self.shutdown()
            throw error
        }
    }

    /// Closes the listeners, the admin listener included, at once. Live sessions are not touched
    /// (``drain()`` is the graceful way to stop); the HTTP/2 upstream pools dial no more and close each
    /// connection once its last session ends.
    func shutdown() async throws {
        self.state.withLockedValue { state in
            state.listening = false
            state.watcher?.cancel()
        }
        self.services.memory.stop()
        await self.shutdownUpstreams()
        try? await self.closeListeners()
        let admin = self.state.withLockedValue { state in
            defer { state.adminChannel = nil }
            return state.adminChannel
        }
        try? await admin?.close()
        self.services.accessLog?.flush()
    }

    /// Closes every WebSocket listener (not the admin listener). Live sessions are not touched.
    func closeListeners() async throws {
        let names = self.state.withLockedValue { Array($0.listeners.keys) }
        for name in names {
            await self.closeListener(named: name)
        }
    }

    /// Whether every listener is bound (and ``shutdown()`` not called).
    var isListening: Bool {
        self.state.withLockedValue { $0.listening }
    }

    /// Closes and reopens the access log file (`wsgate run` calls it on SIGUSR1, after a log rotation
    /// moved the file). Lines already queued go to the old file. Blocking: call off the event loops.
    func reopenAccessLog() throws {
        try self.services.accessLog?.reopen()
    }

    /// Binds a WebSocket listener and records it under its name.
    func bind(_ listener: ListenerConfiguration) async throws {
        let channel = try await self.bindWebSocketListener(listener)
        self.state.withLockedValue { $0.listeners[listener.name] = BoundListener(configuration: listener, channel: channel) }
        self.recordAddress(channel, name: listener.name)
    }

    /// Closes the listener named `name`, if bound; sessions it accepted keep running.
    func closeListener(named name: String) async {
        let bound = self.state.withLockedValue { state in
            state.boundAddresses[name] = nil
            return state.listeners.removeValue(forKey: name)
        }
        guard let bound else { return }
        try? await bound.channel.close()
        self.logger.info("listener closed", metadata: ["wsgate.listener": "\(name)"])
    }

    private func recordAddress(_ channel: any Channel, name: String) {
        if let address = channel.localAddress {
            self.state.withLockedValue { $0.boundAddresses[name] = address }
            self.logger.info("listening", metadata: ["wsgate.listener": "\(name)", "wsgate.address": "\(address)"])
        }
    }

    private func bindWebSocketListener(_ listener: ListenerConfiguration) async throws -> any Channel {
        let state = self.state
        let services = self.services
        let name = listener.name
        let isTLS = listener.tls != nil
        let failures = isTLS ? TLSHandshakeFailures(listener: name, logger: self.logger) : nil
        if let failures {
            self.state.withLockedValue { $0.tlsFailures[name] = failures }
        }
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                // Out of file descriptors, accept fails at once: back off instead of spinning on it.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let current = state.withLockedValue { $0.active }
                    let loopState = GatewayLoopState.current(for: services)
                    // Counted from accept, before a byte is read.
                    let ip = channel.remoteAddress?.ipAddress
                    let acceptance = services.limiter.accept(ip: ip, limits: current.configuration.limits)
                    guard acceptance != .shed else {
                        loopState.stats.route(StatsLoopState.unrouted).limitHit(LimitName.maxPendingHandshakes)
                        throw ChannelError.ioOnClosedChannel
                    }
                    let ticket = AdmissionTicket(acceptance: acceptance, ip: ip, limiter: services.limiter)
                    let releasing = NIOLoopBound(ticket, eventLoop: channel.eventLoop)
                    channel.closeFuture.whenComplete { _ in releasing.value.release() }
                    // Never serve plain text on a TLS listener, whatever happens to the configuration.
                    var tls: NIOSSLContext?
                    if isTLS {
                        guard let context = current.listenerTLS[name] else { throw ChannelError.ioOnClosedChannel }
                        tls = context.sslContext
                    }
                    var connection = Self.handshakeContext(current, loopState: loopState, services: services, tlsFailures: failures)
                    // As the certificates: what the configuration current at accept says (a reload keeps the socket).
                    connection.http2 = current.configuration.listeners.first { $0.name == name }?.http2 ?? listener.http2
                    // Each HTTP/2 stream is served with the configuration current when it opens.
                    connection.streamContext = {
                        let current = state.withLockedValue { $0.active }
                        return Self.handshakeContext(current, loopState: loopState, services: services, tlsFailures: failures)
                    }
                    try ClientPipeline.configure(
                        channel,
                        tls: tls,
                        maxHeaderBytes: current.configuration.defaults.limits.maxHeaderBytes,
                        handshake: ClientHandshakeHandler(connection: connection, ticket: ticket)
                    )
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
    }

    /// What a client's handshake works with under `current`, on the loop whose state is `loopState`.
    private static func handshakeContext(
        _ current: ActiveConfiguration,
        loopState: GatewayLoopState,
        services: GatewayServices,
        tlsFailures: TLSHandshakeFailures?
    ) -> ClientHandshakeContext {
        ClientHandshakeContext(
            configuration: current.configuration,
            routeTable: current.routeTable,
            clusters: current.clusters,
            authenticators: current.authenticators,
            upstreamLoop: loopState.upstreams,
            memory: services.memory,
            session: loopState.sessionEnvironment(
                accessLog: services.accessLog,
                countsTraffic: current.configuration.admin.stats
            ),
            tlsFailures: tlsFailures,
            httpProxies: loopState.httpProxies,
            http2Connections: loopState.http2Connections
        )
    }
}
