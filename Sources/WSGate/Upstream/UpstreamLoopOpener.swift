import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2

/// One upstream's openings on one EventLoop: runs the actions of its ``UpstreamOpenerStateMachine``
/// and feeds it how each attempt ended. An attempt is an HTTP/1.1 connection of its own
/// (``UpstreamConnector``, bounded by `connect_timeout`), or for `websocket-h2` a stream of this
/// loop's pool of the endpoint (the whole opening bounded by `connect_timeout`). A proxied HTTP
/// request takes the same way to an endpoint (order, health, back-off), and a connection of this
/// loop's keep-alive pool of it (``HTTP1ConnectionPool``), or for `websocket-h2` a stream of the
/// same HTTP/2 pool the WebSockets use.
///
/// Loop-confined: every call is made on `eventLoop`, and every leg it opens lives on it.
final class UpstreamLoopOpener {
    private typealias Machine = UpstreamOpenerStateMachine

    private enum Transport {
        case http1
        /// This loop's pool of each endpoint, in endpoint order.
        case http2([HTTP2ConnectionPool])
    }

    /// An HTTP request's search for a pooled connection.
    private struct HTTPOpening {
        var fresh: Bool
        var counters: UpstreamCounters
        var promise: EventLoopPromise<HTTPUpstreamLease>
        var attemptStarted: NIODeadline
        /// The way, once an attempt found it.
        var lease: HTTPUpstreamLease?
    }

    private struct Opening {
        var fields: ForwardedFields
        var offeredSubprotocols: [String]
        var tls: UpstreamTLSContext?
        var counters: UpstreamCounters
        var promise: EventLoopPromise<UpstreamLink>
        /// When the opening started.
        var started: NIODeadline
        /// When the current attempt started.
        var attemptStarted: NIODeadline
        /// The leg, once an attempt opened it.
        var link: UpstreamLink?
    }

    let configuration: UpstreamConfiguration
    private let transport: Transport
    private let eventLoop: any EventLoop
    private var machine: Machine
    private var openings: [Machine.OpeningID: Opening] = [:]
    private var httpOpenings: [Machine.OpeningID: HTTPOpening] = [:]
    private var nextOpeningID = 0
    /// The keep-alive pools of proxied HTTP requests, in endpoint order (`websocket` and `http`;
    /// `websocket-h2` sends them as streams of its HTTP/2 pools).
    private let httpPools: [HTTP1ConnectionPool]

    /// For `websocket-h2`, makes and starts this loop's pools (their warm connections dial now).
    init(configuration: UpstreamConfiguration, tls: UpstreamTLSContext?, logger: Logger, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.machine = Machine(endpointCount: configuration.endpoints.count, balance: configuration.balance)
        self.httpPools =
            configuration.protocol == .websocket || configuration.protocol == .http
            ? configuration.endpoints.map { endpoint in
                HTTP1ConnectionPool(
                    endpoint: endpoint,
                    tls: tls,
                    configuration: configuration.httpPool,
                    connectTimeout: TimeAmount(configuration.connectTimeout),
                    eventLoop: eventLoop
                )
            } : []
        switch configuration.protocol {
        case .websocketH2:
            let pools = configuration.endpoints.map { endpoint in
                HTTP2ConnectionPool(
                    settings: HTTP2PoolSettings(
                        upstream: configuration.name,
                        endpoint: endpoint,
                        tls: tls,
                        connectTimeout: TimeAmount(configuration.connectTimeout),
                        pool: configuration.pool,
                        logger: logger
                    ),
                    eventLoop: eventLoop
                )
            }
            self.transport = .http2(pools)
            for pool in pools { pool.start() }
        case .websocket, .echo, .http:
            self.transport = .http1
        }
    }

    /// Opens a leg for `fields`; `tls` is the upstream's client context now (a pool keeps the one it
    /// was made with). Attempts, their time and the open connections are counted in `counters`.
    func open(
        _ fields: ForwardedFields,
        offeredSubprotocols: [String],
        tls: UpstreamTLSContext?,
        counters: UpstreamCounters
    ) -> EventLoopFuture<UpstreamLink> {
        let id = self.nextOpeningID
        self.nextOpeningID += 1
        let now = NIODeadline.now()
        let promise = self.eventLoop.makePromise(of: UpstreamLink.self)
        self.openings[id] = Opening(
            fields: fields,
            offeredSubprotocols: offeredSubprotocols,
            tls: tls,
            counters: counters,
            promise: promise,
            started: now,
            attemptStarted: now
        )
        self.run(self.machine.openRequested(id, at: now))
        return promise.futureResult
    }

    /// A pooled connection for one proxied HTTP request, to the endpoint the machine picks; `fresh`
    /// dials a new one (the retry of a request whose pooled connection closed before answering).
    /// Connections dialled, their time and the open ones are counted in `counters`.
    func openHTTP(fresh: Bool, counters: UpstreamCounters) -> EventLoopFuture<HTTPUpstreamLease> {
        let id = self.nextOpeningID
        self.nextOpeningID += 1
        let now = NIODeadline.now()
        let promise = self.eventLoop.makePromise(of: HTTPUpstreamLease.self)
        self.httpOpenings[id] = HTTPOpening(fresh: fresh, counters: counters, promise: promise, attemptStarted: now)
        self.run(self.machine.openRequested(id, at: now))
        return promise.futureResult
    }

    /// Stops the pools: waiting sessions fail, idle connections close, busy ones close after their
    /// last stream; nothing is dialed any more.
    func shutdown() {
        for pool in self.httpPools { pool.shutdown() }
        guard case .http2(let pools) = self.transport else { return }
        for pool in pools { pool.shutdown() }
    }

    /// This loop's figures of each endpoint's pool; nil for upstreams without pools.
    var poolStats: [UpstreamEndpointStats]? {
        guard case .http2(let pools) = self.transport else { return nil }
        return pools.map(\.stats)
    }

    /// This loop's view of each endpoint, in endpoint order.
    func endpointHealth(at now: NIODeadline) -> [UpstreamEndpointHealth] {
        zip(self.configuration.endpoints, self.machine.endpoints).enumerated().map { index, endpoint in
            var health = UpstreamEndpointHealth(endpoint: endpoint.0.description)
            health.loops = 1
            health.healthyLoops = endpoint.1.isHealthy(at: now) ? 1 : 0
            health.failuresInARow = endpoint.1.failuresInARow
            health.activeLegs = endpoint.1.activeLegs
            health.httpPool = self.httpPools.isEmpty ? nil : self.httpPools[index].figures
            return health
        }
    }

    // MARK: Actions

    private func run(_ action: Machine.Action) {
        switch action {
        case .attempt(let id, let endpoint) where self.httpOpenings[id] != nil:
            self.httpOpenings[id]?.attemptStarted = .now()
            self.lease(id, from: endpoint)
        case .fail(let id, let error) where self.httpOpenings[id] != nil:
            self.httpOpenings.removeValue(forKey: id)?.promise.fail(error)
        case .succeed(let id, _) where self.httpOpenings[id] != nil:
            guard let opening = self.httpOpenings.removeValue(forKey: id), let lease = opening.lease else { return }
            opening.promise.assumeIsolated().succeed(lease)
        case .attempt(let id, let endpoint):
            self.openings[id]?.attemptStarted = .now()
            switch self.transport {
            case .http1: self.connect(id, to: endpoint)
            case .http2(let pools): self.openStream(id, on: pools[endpoint])
            }
        case .fail(let id, let error):
            guard let opening = self.openings.removeValue(forKey: id) else { return }
            if case .http2 = self.transport {
                // A pooled opening counts once; a connection of its own counts each attempt.
                opening.counters.connectFailed(reason: error.kind.name)
            }
            opening.promise.fail(error)
        case .succeed(let id, let endpoint):
            guard let opening = self.openings.removeValue(forKey: id), let link = opening.link else { return }
            self.handOver(link, of: opening, endpoint: endpoint)
        }
    }

    private func attemptFailed(_ id: Machine.OpeningID, _ failure: Machine.AttemptFailure) {
        self.run(self.machine.attemptFailed(id, failure, at: .now()))
    }

    private func attemptSucceeded(_ id: Machine.OpeningID, _ link: UpstreamLink) {
        self.openings[id]?.link = link
        self.run(self.machine.attemptSucceeded(id))
    }

    /// Counts the leg, and its connection until it closes (the `wsgate_upstream_connections` gauge
    /// for one-to-one upstreams), and keeps the endpoint's sessions counted until then.
    private func handOver(_ link: UpstreamLink, of opening: Opening, endpoint: Machine.EndpointIndex) {
        let now = NIODeadline.now()
        let counters = opening.counters
        let ownsConnection = link.transport.isSocket
        let latency = ownsConnection ? now - opening.attemptStarted : now - opening.started
        counters.connected(endpoint: link.endpoint, after: latency.nanoseconds, ownsConnection: ownsConnection)
        if let channel = link.channel {
            let name = link.endpoint
            channel.closeFuture.assumeIsolated().whenComplete { _ in
                if ownsConnection { counters.connectionClosed(endpoint: name) }
                self.machine.legClosed(endpoint: endpoint)
            }
        }
        opening.promise.succeed(link)
    }

    // MARK: Proxied HTTP requests

    private func lease(_ id: Machine.OpeningID, from index: Machine.EndpointIndex) {
        switch self.transport {
        case .http1: self.leaseConnection(id, from: index)
        case .http2(let pools): self.openHTTPStream(id, on: pools[index], endpoint: index)
        }
    }

    /// A connection of the endpoint's keep-alive pool; a dialled one is counted (open until it
    /// closes). The endpoint counts the request among its legs until the lease is released.
    private func leaseConnection(_ id: Machine.OpeningID, from index: Machine.EndpointIndex) {
        guard let opening = self.httpOpenings[id] else { return }
        let pool = self.httpPools[index]
        pool.lease(fresh: opening.fresh).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let connection):
                let name = pool.endpoint.description
                let counters = opening.counters
                if !connection.reused {
                    counters.connected(endpoint: name, after: (NIODeadline.now() - opening.attemptStarted).nanoseconds)
                    connection.channel.closeFuture.assumeIsolated().whenComplete { _ in counters.connectionClosed(endpoint: name) }
                }
                if opening.fresh { pool.recordStaleRetry() }
                self.httpOpenings[id]?.lease = HTTPUpstreamLease(
                    handler: connection.handler,
                    endpoint: name,
                    reused: connection.reused
                ) { reusable in
                    pool.release(connection, reusable: reusable)
                    self.machine.legClosed(endpoint: index)
                }
                self.run(self.machine.attemptSucceeded(id))
            case .failure(let error):
                let upstreamError = UpstreamError(.unreachable, "\(self.configuration.endpoints[index]): \(error)")
                opening.counters.connectFailed(reason: upstreamError.kind.name)
                self.attemptFailed(id, .unreachable(upstreamError))
            }
        }
    }

    /// A stream of the endpoint's HTTP/2 pool (MAX_CONCURRENT_STREAMS and GOAWAY are the pool's
    /// rules) carrying the request through NIO's HTTP/2-to-HTTP/1 codec, so the exchange is the one
    /// of a pooled HTTP/1.1 connection; the stream's flow control is its backpressure. A stream
    /// reset or lost with its connection before any answer is a closed way (``HTTPUpstreamLease/reused``):
    /// an idempotent request without a body goes again once. The stream is closed on release.
    private func openHTTPStream(_ id: Machine.OpeningID, on pool: HTTP2ConnectionPool, endpoint index: Machine.EndpointIndex) {
        let deadline = NIODeadline.now() + TimeAmount(self.configuration.connectTimeout)
        let scheme: HTTP2FramePayloadToHTTP1ClientCodec.HTTPProtocol = pool.settings.tls == nil ? .http : .https
        let handler = HTTP1UpstreamHandler(countsQueuedBytes: true)
        pool.openStream(deadline: deadline, carriesSession: false) { channel in
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: scheme))
            try sync.addHandler(handler)
        }.assumeIsolated().whenComplete { opened in
            switch opened {
            case .success(let stream):
                self.httpOpenings[id]?.lease = HTTPUpstreamLease(
                    handler: handler,
                    endpoint: pool.settings.endpoint.description,
                    reused: true
                ) { _ in
                    // The exchange is over: the stream's closing is not news to it (it may be on
                    // its next request already).
                    handler.exchange = nil
                    stream.channel.close(promise: nil)
                    self.machine.legClosed(endpoint: index)
                }
                self.run(self.machine.attemptSucceeded(id))
            case .failure(let error):
                self.streamFailed(id, error, on: pool, session: false)
            }
        }
    }

    /// A pool gave no stream: an unreachable endpoint, or one without extended CONNECT, passes the
    /// opening to the next; no free stream in time, or a pool shutting down, ends it. Counted in the
    /// pool's stream figures for a WebSocket `session` only (an HTTP request's are its route's).
    private func streamFailed(_ id: Machine.OpeningID, _ error: any Error, on pool: HTTP2ConnectionPool, session: Bool = true) {
        switch (error as? HTTP2PoolError)?.reason {
        case .pool(.unreachable)?, .pool(.extendedConnectUnsupported)?:
            self.attemptFailed(id, .unreachable(UpstreamError(.unreachable, "\(error)")))
        case .timedOut?:
            if session { pool.record(.failed) }
            self.attemptFailed(id, .final(UpstreamError(.streamRefused, "\(error)")))
        case .pool(.shutdown)?, nil:
            if session { pool.record(.failed) }
            self.attemptFailed(id, .final(UpstreamError(.unreachable, "\(error)")))
        }
    }

    // MARK: HTTP/1.1

    private func connect(_ id: Machine.OpeningID, to index: Machine.EndpointIndex) {
        guard let opening = self.openings[id] else { return }
        let key = WebSocketAccept.makeKey()
        UpstreamConnector.connect(
            to: self.configuration.endpoints[index],
            request: opening.fields.webSocketUpgradeHead(key: key),
            key: key,
            offeredSubprotocols: opening.offeredSubprotocols,
            tls: opening.tls,
            timeout: TimeAmount(self.configuration.connectTimeout),
            on: self.eventLoop
        ).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let link):
                self.attemptSucceeded(id, link)
            case .failure(let error):
                let upstreamError = error as? UpstreamError ?? UpstreamError(.unreachable, "\(error)")
                opening.counters.connectFailed(reason: upstreamError.kind.name)
                self.attemptFailed(id, upstreamError.kind == .unreachable ? .unreachable(upstreamError) : .final(upstreamError))
            }
        }
    }

    // MARK: HTTP/2

    /// A stream on the pool, then the extended CONNECT on it. An unreachable endpoint, or one that
    /// refuses extended CONNECT, passes the session to the next. A stream refused before its answer
    /// (REFUSED_STREAM), or a non-2xx on a connection's first stream (hypercorn refuses stream 1 of
    /// an h2c prior-knowledge connection with 400), is tried again once. A client is never left
    /// waiting on a stream that does not come: the opening ends at its deadline.
    private func openStream(_ id: Machine.OpeningID, on pool: HTTP2ConnectionPool) {
        guard let opening = self.openings[id] else { return }
        let deadline = opening.started + TimeAmount(self.configuration.connectTimeout)
        let endpoint = pool.settings.endpoint.description
        let headers = opening.fields.extendedConnectHeaders(
            scheme: pool.settings.tls == nil ? "http" : "https",
            authority: endpoint
        )
        let offered = opening.offeredSubprotocols
        let handshake = self.eventLoop.makePromise(of: HTTPResponseHead.self)
        let loop = self.eventLoop

        pool.openStream(deadline: deadline) { channel in
            try UpstreamPipeline.configureStream(
                channel.pipeline.syncOperations,
                handshake: ExtendedConnectStreamHandler(request: headers, offeredSubprotocols: offered, promise: handshake)
            )
        }.assumeIsolated().whenComplete { opened in
            switch opened {
            case .failure(let error):
                handshake.fail(error)
                self.streamFailed(id, error, on: pool)
            case .success(let stream):
                let timer = loop.scheduleTask(deadline: deadline) {
                    handshake.fail(UpstreamError(.handshakeFailed, "no answer from \(endpoint) to the extended CONNECT in time"))
                    stream.channel.close(promise: nil)
                }
                handshake.futureResult.assumeIsolated().whenComplete { answered in
                    timer.cancel()
                    switch answered {
                    case .success(let head):
                        pool.record(.opened)
                        self.attemptSucceeded(
                            id,
                            UpstreamLink(channel: stream.channel, response: head, endpoint: endpoint, transport: .http2Stream)
                        )
                    case .failure(let error):
                        let upstreamError = error as? UpstreamError ?? UpstreamError(.handshakeFailed, "\(error)")
                        switch upstreamError.kind {
                        case .streamRefused:
                            pool.record(.refused)
                            self.attemptFailed(id, .refusedBeforeAnswer(upstreamError))
                        case .refused:
                            pool.record(.failed)
                            self.attemptFailed(
                                id,
                                stream.isFirstOnConnection ? .refusedBeforeAnswer(upstreamError) : .final(upstreamError)
                            )
                        case .unreachable, .invalidResponse, .handshakeFailed:
                            pool.record(.failed)
                            self.attemptFailed(id, .final(upstreamError))
                        }
                    }
                }
            }
        }
    }
}

@available(*, unavailable)
extension UpstreamLoopOpener: Sendable {}
