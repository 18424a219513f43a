import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One endpoint's keep-alive HTTP/1.1 connections on one EventLoop, for proxied HTTP requests: runs
/// its ``HTTP1ConnectionPoolStateMachine``, dials connections (TCP, TLS when the upstream has it,
/// bounded by `connect_timeout`) and closes the ones it gives up. Loop-confined.
final class HTTP1ConnectionPool {
    private typealias Machine = HTTP1ConnectionPoolStateMachine

    let endpoint: SocketAddressSpec
    private let tls: UpstreamTLSContext?
    private let connectTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let eventLoop: any EventLoop
    private var machine: Machine
    private var connections: [Machine.ConnectionID: HTTP1PooledConnection] = [:]
    private var nextID = 0
    private var sweep: Scheduled<Void>?
    private var isShutDown = false

    init(
        endpoint: SocketAddressSpec,
        tls: UpstreamTLSContext?,
        configuration: HTTPPoolConfiguration,
        connectTimeout: TimeAmount,
        eventLoop: any EventLoop
    ) {
        self.endpoint = endpoint
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.idleTimeout = TimeAmount(configuration.idleTimeout)
        self.eventLoop = eventLoop
        self.machine = Machine(configuration: configuration)
    }

    var figures: HTTP1PoolFigures {
        var figures = self.machine.figures
        figures.open = self.connections.count
        figures.idle = self.machine.idleCount
        return figures
    }

    /// A connection for one exchange: the idle one that went idle last, or (none idle, or `fresh`)
    /// a new one. Fails when the endpoint cannot be reached.
    func lease(fresh: Bool) -> EventLoopFuture<HTTP1PooledConnection> {
        let (lease, expired) = self.machine.lease(fresh: fresh, at: .now())
        self.closeConnections(expired)
        switch lease {
        case .reuse(let id):
            guard let connection = self.connections[id] else { return self.lease(fresh: true) }
            connection.reused = true
            return self.eventLoop.makeSucceededFuture(connection)
        case .connect:
            return self.connect()
        }
    }

    /// The exchange is done with `connection`: back to the pool when `reusable` and there is room,
    /// else closed.
    func release(_ connection: HTTP1PooledConnection, reusable: Bool) {
        connection.handler.exchange = nil
        guard !self.isShutDown, connection.channel.isActive,
            self.machine.released(connection.id, reusable: reusable, at: .now())
        else {
            connection.handler.close()
            return
        }
        self.scheduleSweep()
    }

    /// A request went again on a fresh connection after its pooled one closed before answering.
    func recordStaleRetry() {
        self.machine.recordStaleRetry()
    }

    /// Closes the idle connections; lent ones close when their exchange releases them.
    func shutdown() {
        self.isShutDown = true
        self.sweep?.cancel()
        self.closeConnections(self.machine.expire(at: .distantFuture))
    }

    // MARK: Private

    private func connect() -> EventLoopFuture<HTTP1PooledConnection> {
        let id = self.nextID
        self.nextID += 1
        let handler = HTTP1UpstreamHandler()
        let tls = self.tls
        let endpoint = self.endpoint
        return ClientBootstrap(group: self.eventLoop)
            .connectTimeout(self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(
                            NIOSSLClientHandler(context: tls.sslContext, serverHostname: tls.serverName(for: endpoint))
                        )
                    }
                    var encoding = HTTPRequestEncoder.Configuration()
                    // The proxy frames each request itself (``HTTPBodyFraming``).
                    encoding.automaticallySetFramingHeaders = false
                    try sync.addHandler(HTTPRequestEncoder(configuration: encoding))
                    try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(handler)
                }
            }
            .connect(to: endpoint)
            .assumeIsolated()
            .map { channel in
                let connection = HTTP1PooledConnection(id: id, channel: channel, handler: handler)
                self.connections[id] = connection
                self.machine.connected(id)
                handler.onClose = { [weak self] in self?.closed(id) }
                return connection
            }
            .nonisolated()
    }

    private func closed(_ id: Machine.ConnectionID) {
        self.connections[id] = nil
        self.machine.closed(id)
    }

    private func closeConnections(_ ids: [Machine.ConnectionID]) {
        for id in ids {
            self.connections[id]?.handler.close()
        }
    }

    /// Checks the idle connections every half `idle_timeout` while there are any, so one is closed
    /// between one and one and a half `idle_timeout` after it went idle.
    private func scheduleSweep() {
        guard self.sweep == nil, !self.isShutDown else { return }
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.sweep = self.eventLoop.scheduleTask(in: .nanoseconds(self.idleTimeout.nanoseconds / 2)) {
            let pool = bound.value
            pool.sweep = nil
            pool.closeConnections(pool.machine.expire(at: .now()))
            if pool.machine.idleCount > 0 { pool.scheduleSweep() }
        }
    }
}

@available(*, unavailable)
extension HTTP1ConnectionPool: Sendable {}

/// A connection of an ``HTTP1ConnectionPool``, lent to one exchange at a time.
final class HTTP1PooledConnection {
    let id: Int
    let channel: any Channel
    let handler: HTTP1UpstreamHandler
    /// Whether this lease took an idle connection (it may have been closed by the upstream meanwhile:
    /// the exchange may retry once on a fresh one).
    var reused = false

    init(id: Int, channel: any Channel, handler: HTTP1UpstreamHandler) {
        self.id = id
        self.channel = channel
        self.handler = handler
    }
}

@available(*, unavailable)
extension HTTP1PooledConnection: Sendable {}
