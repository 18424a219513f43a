import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The running gateway: its WebSocket listeners and its admin listener, all serving one
/// `ActiveConfiguration`.
public final class Gateway: Sendable {
    private let group: any EventLoopGroup
    private let logger: Logger
    private let active: NIOLockedValueBox<ActiveConfiguration>
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let boundAddresses = NIOLockedValueBox<[String: SocketAddress]>([:])

    /// Name under which the admin listener's address is recorded in `listenerAddresses`.
    public static let adminListenerName = "admin"

    public init(configuration: GatewayConfiguration, group: any EventLoopGroup, logger: Logger) {
        self.group = group
        self.logger = logger
        self.active = NIOLockedValueBox(ActiveConfiguration(configuration))
    }

    /// The bound address of each listener by name (useful when the config asks for port 0).
    public var listenerAddresses: [String: SocketAddress] {
        self.boundAddresses.withLockedValue { $0 }
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
        } catch {
            try? await self.shutdown()
            throw error
        }
    }

    /// Closes the listeners. Live sessions are not touched.
    public func shutdown() async throws {
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
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    let configuration = active.withLockedValue { $0 }
                    try sync.addHandler(RequestHeadLimitHandler(maxHeaderBytes: configuration.configuration.defaults.limits.maxHeaderBytes))
                    try sync.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                        name: ProxySession.ClientPipelineNames.decoder
                    )
                    try sync.addHandler(HTTPResponseEncoder(), name: ProxySession.ClientPipelineNames.encoder)
                    try sync.addHandler(
                        ClientHandshakeHandler(active: configuration, scheme: "http"),
                        name: ClientHandshakeHandler.name
                    )
                }
            }
            .bind(host: listener.address.host, port: listener.address.port)
            .get()
    }
}
