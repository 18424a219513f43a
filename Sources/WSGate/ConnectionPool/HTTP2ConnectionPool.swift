import Logging
import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL

/// Why a pool could not give a stream.
struct HTTP2PoolError: Error, Equatable, CustomStringConvertible {
    enum Reason: Equatable {
        case pool(HTTP2ConnectionPoolStateMachine.Failure)
        /// No stream became free before the session's deadline.
        case timedOut
    }

    var reason: Reason
    var endpoint: String

    var description: String {
        switch self.reason {
        case .pool(.unreachable): return "\(self.endpoint) is unreachable"
        case .pool(.extendedConnectUnsupported):
            return "\(self.endpoint) does not accept WebSocket over HTTP/2 (no SETTINGS_ENABLE_CONNECT_PROTOCOL=1)"
        case .pool(.shutdown): return "the pool for \(self.endpoint) is shutting down"
        case .timedOut: return "no stream to \(self.endpoint) became free in time"
        }
    }
}

/// A stream the pool opened for a session.
struct PooledStream: Sendable {
    var channel: any Channel
    /// Whether it is the first stream of its connection (some servers, hypercorn among them, refuse
    /// the first stream of an h2c prior-knowledge connection; such a refusal is retried).
    var isFirstOnConnection: Bool
}

/// Settings every connection of a pool is made with.
struct HTTP2PoolSettings {
    var upstream: String
    var endpoint: SocketAddressSpec
    var tls: UpstreamTLSContext?
    var connectTimeout: TimeAmount
    var pool: HTTP2PoolConfiguration
    var logger: Logger
}

/// One endpoint's pool of HTTP/2 connections on one EventLoop: runs the actions of its
/// `HTTP2ConnectionPoolStateMachine` (dialing, opening streams, timers) and feeds it what happens.
/// Loop-confined: every call is made on `eventLoop`.
final class HTTP2ConnectionPool {
    private struct Connection {
        var channel: (any Channel)?
        var idleTimer: Scheduled<Void>?
        var streamsStarted = 0
        /// Of its open streams, those carrying a WebSocket session (not an HTTP request).
        var sessionStreams = 0
    }

    private struct Request {
        var promise: EventLoopPromise<PooledStream>
        var initializer: (any Channel) throws -> Void
        var deadline: Scheduled<Void>?
        var carriesSession: Bool
    }

    let settings: HTTP2PoolSettings
    private let eventLoop: any EventLoop
    private var state: HTTP2ConnectionPoolStateMachine
    private var connections: [Int: Connection] = [:]
    private var requests: [Int: Request] = [:]
    private var nextRequestID = 0
    private(set) var counters = HTTP2PoolCounters()

    init(settings: HTTP2PoolSettings, eventLoop: any EventLoop) {
        self.settings = settings
        self.eventLoop = eventLoop
        self.state = HTTP2ConnectionPoolStateMachine(configuration: .init(settings.pool))
    }

    /// The pool's figures now (see ``UpstreamEndpointStats``).
    var stats: UpstreamEndpointStats {
        var stats = UpstreamEndpointStats(endpoint: self.settings.endpoint.description)
        stats.connectionsOpen = self.state.connections.count { $0.state != .starting }
        stats.streamsActive = self.state.activeStreams
        stats.counters = self.counters
        stats.healthyLoops = self.state.isHealthy ? 1 : 0
        stats.loops = 1
        return stats
    }

    func start() {
        self.run(self.state.start())
    }

    func shutdown() {
        self.run(self.state.shutdown())
    }

    /// A stream for a session (or, not `carriesSession`, an HTTP request: not counted in
    /// `sessions_lost`), with `initializer` run on the new stream channel before anything is sent on
    /// it. Waits for a free slot until `deadline`.
    func openStream(
        deadline: NIODeadline,
        carriesSession: Bool = true,
        initializer: @escaping (any Channel) throws -> Void
    ) -> EventLoopFuture<PooledStream> {
        let id = self.nextRequestID
        self.nextRequestID += 1
        let promise = self.eventLoop.makePromise(of: PooledStream.self)
        let pool = NIOLoopBound(self, eventLoop: self.eventLoop)
        let timer = self.eventLoop.scheduleTask(deadline: deadline) {
            pool.value.requestTimedOut(id)
        }
        self.requests[id] = Request(promise: promise, initializer: initializer, deadline: timer, carriesSession: carriesSession)
        self.run(self.state.requestStream(id))
        return promise.futureResult
    }

    /// Counts how a stream's extended CONNECT ended.
    func record(_ outcome: HTTP2PoolCounters.StreamOutcome) {
        self.counters.record(outcome)
    }

    // MARK: Private

    private func requestTimedOut(_ id: Int) {
        guard let request = self.requests.removeValue(forKey: id) else { return }
        self.state.cancelRequest(id)
        request.promise.fail(HTTP2PoolError(reason: .timedOut, endpoint: self.settings.endpoint.description))
    }

    private func run(_ actions: [HTTP2ConnectionPoolStateMachine.Action]) {
        for action in actions {
            self.run(action)
        }
    }

    private func run(_ action: HTTP2ConnectionPoolStateMachine.Action) {
        switch action {
        case .createConnection(let id):
            self.connect(id)
        case .openStream(let requestID, let connectionID):
            self.openStream(requestID, on: connectionID)
        case .failRequests(let ids, let failure):
            for id in ids {
                guard let request = self.requests.removeValue(forKey: id) else { continue }
                request.deadline?.cancel()
                request.promise.fail(HTTP2PoolError(reason: .pool(failure), endpoint: self.settings.endpoint.description))
            }
        case .closeConnection(let id):
            let connection = self.connections.removeValue(forKey: id)
            connection?.idleTimer?.cancel()
            connection?.channel?.close(promise: nil)
        case .scheduleIdleTimeout(let id):
            let pool = NIOLoopBound(self, eventLoop: self.eventLoop)
            self.connections[id]?.idleTimer?.cancel()
            self.connections[id]?.idleTimer = self.eventLoop.scheduleTask(in: TimeAmount(self.settings.pool.idleTimeout)) {
                let pool = pool.value
                pool.run(pool.state.idleTimeoutFired(id))
            }
        case .scheduleBackoff(let delay):
            let pool = NIOLoopBound(self, eventLoop: self.eventLoop)
            self.eventLoop.scheduleTask(in: delay) {
                let pool = pool.value
                pool.run(pool.state.backoffElapsed())
            }
        case .reportExtendedConnectUnsupported:
            self.settings.logger.error(
                "upstream endpoint does not accept WebSocket over HTTP/2: its SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (RFC 8441); sessions go to other endpoints",
                metadata: ["wsgate.upstream": "\(self.settings.upstream)", "wsgate.endpoint": "\(self.settings.endpoint)"]
            )
        }
    }

    private func connect(_ id: Int) {
        self.connections[id] = Connection()
        let settings = self.settings
        let pool = NIOLoopBound(self, eventLoop: self.eventLoop)
        let window = settings.pool.initialStreamWindow
        let connect = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls = settings.tls {
                        try sync.addHandler(
                            NIOSSLClientHandler(context: tls.sslContext, serverHostname: tls.serverName(for: settings.endpoint))
                        )
                    }
                    var connection = NIOHTTP2Handler.ConnectionConfiguration()
                    connection.initialSettings = [
                        HTTP2Setting(parameter: .enablePush, value: 0),
                        HTTP2Setting(parameter: .maxConcurrentStreams, value: 0),
                        HTTP2Setting(parameter: .initialWindowSize, value: window),
                        HTTP2Setting(parameter: .maxHeaderListSize, value: 16 * 1024),
                    ]
                    // Outbound, a stream may hold what the server's window does not take yet, up to the
                    // same amount the gateway lets the server send it: the stream window.
                    var streams = NIOHTTP2Handler.StreamConfiguration()
                    streams.targetWindowSize = window
                    streams.outboundBufferSizeHighWatermark = window
                    streams.outboundBufferSizeLowWatermark = window / 2
                    // The handler's own (inline) multiplexer: stream frames and flow-control changes
                    // reach the stream channels directly, not as channel reads and type-erased user
                    // events through the connection's pipeline (a dozen dynamic casts per message).
                    // The server may not open streams (push is off); one that tries is closed.
                    try sync.addHandler(HTTP2FlushCoalescer())
                    try sync.addHandler(
                        NIOHTTP2Handler(
                            mode: .client,
                            eventLoop: channel.eventLoop,
                            connectionConfiguration: connection,
                            streamConfiguration: streams,
                            inboundStreamInitializer: { stream in stream.close() }
                        )
                    )
                    try sync.addHandler(
                        HTTP2ConnectionObserver { event in
                            pool.value.connectionEvent(event, id: id)
                        }
                    )
                }
            }
            .connect(to: settings.endpoint)
        connect.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                guard self.connections[id] != nil else {
                    channel.close(promise: nil)
                    return
                }
                self.connections[id]?.channel = channel
                // A server that accepts TCP but never sends its SETTINGS counts as a connect failure.
                channel.eventLoop.scheduleTask(in: settings.connectTimeout) {
                    let pool = pool.value
                    if pool.state.connections.contains(where: { $0.id == id && $0.state == .starting }) {
                        channel.close(promise: nil)
                    }
                }
            case .failure(let error):
                self.settings.logger.debug(
                    "upstream connect failed",
                    metadata: ["wsgate.endpoint": "\(settings.endpoint)", "wsgate.error": "\(error)"]
                )
                self.connections[id] = nil
                self.counters.connectFailures += 1
                self.run(self.state.connectFailed(id))
            }
        }
    }

    private func connectionEvent(_ event: HTTP2ConnectionObserver.Event, id: Int) {
        switch event {
        case .settings(let maxStreams, let enableConnect, let first):
            if first {
                self.run(
                    self.state.connectionReady(
                        id,
                        maxConcurrentStreams: maxStreams,
                        supportsExtendedConnect: enableConnect == true
                    )
                )
            } else if let maxStreams {
                self.run(self.state.maxConcurrentStreamsChanged(id, to: maxStreams))
            }
        case .goAway:
            self.counters.goAways += 1
            self.run(self.state.goAwayReceived(id))
        case .closed:
            let connection = self.connections.removeValue(forKey: id)
            connection?.idleTimer?.cancel()
            switch self.state.connections.first(where: { $0.id == id })?.state {
            case .starting?:
                self.counters.connectFailures += 1
            case .ready?, .draining?:
                // Their sessions end toward the clients with 1014 (the upstream leg failed); its
                // HTTP requests are their routes' figures.
                self.counters.sessionsLost += connection?.sessionStreams ?? 0
            case nil:
                break
            }
            self.run(self.state.connectionClosed(id))
        }
    }

    private func openStream(_ requestID: Int, on connectionID: Int) {
        guard let request = self.requests.removeValue(forKey: requestID) else {
            // The request gave up between reservation and now: give the slot back.
            self.run(self.state.streamClosed(connectionID))
            return
        }
        request.deadline?.cancel()
        guard let channel = self.connections[connectionID]?.channel,
            let multiplexer = try? channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
        else {
            request.promise.fail(HTTP2PoolError(reason: .pool(.unreachable), endpoint: self.settings.endpoint.description))
            self.run(self.state.streamClosed(connectionID))
            return
        }
        self.connections[connectionID]?.idleTimer?.cancel()
        self.connections[connectionID]?.idleTimer = nil
        let isFirst = self.connections[connectionID]?.streamsStarted == 0
        self.connections[connectionID]?.streamsStarted += 1

        let pool = NIOLoopBound(self, eventLoop: self.eventLoop)
        let initializer = NIOLoopBound(request.initializer, eventLoop: self.eventLoop)
        let registered = NIOLoopBoundBox(false, eventLoop: self.eventLoop)
        let promise = self.eventLoop.makePromise(of: (any Channel).self)
        let carriesSession = request.carriesSession
        multiplexer.createStreamChannel(promise: promise) { stream in
            stream.eventLoop.makeCompletedFuture {
                registered.value = true
                if carriesSession { pool.value.connections[connectionID]?.sessionStreams += 1 }
                stream.closeFuture.whenComplete { _ in
                    let pool = pool.value
                    if carriesSession { pool.connections[connectionID]?.sessionStreams -= 1 }
                    pool.run(pool.state.streamClosed(connectionID))
                }
                try initializer.value(stream)
            }
        }
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let stream):
                request.promise.succeed(PooledStream(channel: stream, isFirstOnConnection: isFirst))
            case .failure(let error):
                if !registered.value {
                    self.run(self.state.streamClosed(connectionID))
                }
                request.promise.fail(error)
            }
        }
    }
}

@available(*, unavailable)
extension HTTP2ConnectionPool: Sendable {}
