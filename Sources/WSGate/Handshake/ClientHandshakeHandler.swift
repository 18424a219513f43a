import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// Answers a client's HTTP/1.1 upgrade request: validates it, picks the route, opens the upstream
/// leg, and only then answers 101 and hands the connection to a proxy session; otherwise it answers
/// with an HTTP error (400, 403, 404, 426, 502, ...) and closes.
///
/// Reads are held while the upstream is being opened, so nothing the client sends early is lost or
/// parsed as HTTP. The whole handshake is bounded by `handshake_timeout`, the TLS handshake included
/// on a TLS listener (the timer starts when the connection is accepted); a connection whose TLS
/// handshake fails or does not finish in time is closed without an HTTP answer.
final class ClientHandshakeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "client-handshake"
    /// How long a connection over a connection limit has to send the request head its 503 answers.
    static let refusedHandshakeTimeout = TimeAmount.seconds(1)

    private enum State {
        case awaitingHead
        case awaitingEnd(ClientHandshakeRequest, RouteSelection)
        case connectingUpstream
        /// The 101 is written; the HTTP codecs are leaving both legs. What arrives now is kept raw
        /// for the session (``HandshakeLeftovers``).
        case upgrading
        case finished
    }

    private let active: ActiveConfiguration
    private let services: GatewayServices
    /// The connection's slots in the connection limits, taken at accept.
    private let ticket: AdmissionTicket
    /// The matched route's name, once known (for the counters and the access log).
    private var routeName: String?
    /// The request path without its query, once the request head arrived (for the access log).
    private var target = ""
    private let accepted = NIODeadline.now()
    /// Set on a TLS listener: where failed TLS handshakes are counted.
    private let tlsFailures: TLSHandshakeFailures?
    private var isTLS: Bool { self.tlsFailures != nil }
    /// Whether HTTP can be answered: at once on a plain listener, after the TLS handshake otherwise.
    private var transportReady: Bool
    private var state: State = .awaitingHead
    private var readPending = false
    private var leftovers = HandshakeLeftovers()
    private var timeout: Scheduled<Void>?

    /// - Parameter tlsFailures: set when a TLS handler sits in front (the forwarded proto becomes
    ///   `https`); failed TLS handshakes are recorded there.
    init(active: ActiveConfiguration, services: GatewayServices, ticket: AdmissionTicket, tlsFailures: TLSHandshakeFailures?) {
        self.active = active
        self.services = services
        self.ticket = ticket
        self.tlsFailures = tlsFailures
        self.transportReady = tlsFailures == nil
    }

    private var scheme: String { self.isTLS ? "https" : "http" }

    /// The gateway's counters on this connection's loop.
    private var stats: StatsLoopState { GatewayLoopState.current(for: self.services).stats }

    func handlerAdded(context: ChannelHandlerContext) {
        var limit = TimeAmount(self.active.configuration.defaults.limits.handshakeTimeout)
        if case .refused = self.ticket.acceptance {
            // Over a connection limit: it is read only to be answered 503, and may not linger.
            limit = min(limit, Self.refusedHandshakeTimeout)
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timeout = context.eventLoop.scheduleTask(in: limit) {
            let (handler, context) = loopBound.value
            handler.handshakeTimedOut(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timeout?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .upgrading = self.state {
            // Bytes the client sent right behind its request (its first frames), handed on by the
            // retiring HTTP decoder: not HTTP, and for the session.
            self.leftovers.append(data)
            return
        }
        switch (self.state, self.unwrapInboundIn(data)) {
        case (.awaitingHead, .head(let head)):
            self.target = String(head.uri.prefix { $0 != "?" })
            do {
                self.state = try self.accept(head, context: context)
            } catch {
                self.reject(error, context: context)
            }
        case (.awaitingEnd(let request, let selection), .end):
            self.state = .connectingUpstream
            self.openUpstream(for: request, selection: selection, context: context)
        case (.awaitingEnd, .body), (.awaitingEnd, .head), (.awaitingHead, _), (.connectingUpstream, _), (.upgrading, _), (.finished, _):
            // A body on a GET upgrade is ignored; anything after the request waits for the upgrade.
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            self.transportReady = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed TLS handshake (plain HTTP on a TLS port, no common version or cipher, a refused
        // client certificate): nothing can be answered in HTTP.
        guard self.transportReady else {
            if case .finished = self.state {} else {
                self.tlsFailures?.record("\(error)", remoteAddress: context.channel.remoteAddress)
            }
            self.state = .finished
            context.close(promise: nil)
            return
        }
        // The HTTP decoder could not parse the request.
        if case .awaitingHead = self.state {
            self.reject(.badRequest("malformed HTTP request"), context: context)
        } else {
            context.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        switch self.state {
        case .connectingUpstream, .upgrading:
            self.readPending = true
        case .awaitingHead, .awaitingEnd, .finished:
            context.read()
        }
    }

    /// Leaves the pipeline once the session's handlers sit behind this one (``ProxySession/start``),
    /// handing them what the client sent behind its request, then issuing the read it held back.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        self.state = .finished
        self.leftovers.replay(context: context)
        if self.readPending {
            self.readPending = false
            context.read()
        }
        context.leavePipeline(removalToken: removalToken)
    }

    // MARK: Private

    private func accept(_ head: HTTPRequestHead, context: ChannelHandlerContext) throws(HandshakeRejection) -> State {
        let maxHeaders = self.active.configuration.defaults.limits.maxHeaders
        guard head.headers.count <= maxHeaders else {
            throw HandshakeRejection(.requestHeaderFieldsTooLarge, "more than \(maxHeaders) header fields")
        }
        let host = head.headers.first(name: "Host")
        guard let selection = self.active.routeTable.match(
            host: host,
            path: head.uri,
            headers: head.headers.map { (name: $0.name, value: $0.value) }
        ) else {
            throw HandshakeRejection(.notFound, "no route for \(host ?? "") \(head.uri)")
        }
        self.routeName = selection.route.name
        let request = try ClientHandshakeRequest(validating: head)
        if let origins = selection.route.origins {
            guard let origin = request.origin?.lowercased(), origins.contains(origin) else {
                throw HandshakeRejection(.forbidden, "origin \(request.origin ?? "(none)") is not allowed")
            }
        }
        try self.admit(selection.route, context: context)
        return .awaitingEnd(request, selection)
    }

    /// Takes the route's connection slot (`max_connections` of the route); a connection over the
    /// gateway's or its IP's limit at accept is refused here too, now that its route is known. 503 with
    /// `Retry-After` when full.
    private func admit(_ route: RouteConfiguration, context: ChannelHandlerContext) throws(HandshakeRejection) {
        let limits = self.active.configuration.limits
        let seconds = (limits.retryAfter.components.seconds) + (limits.retryAfter.components.attoseconds > 0 ? 1 : 0)
        if let refusal = self.ticket.admit(route: route.name, routeLimit: route.limits.maxConnections) {
            self.stats.route(route.name).limitHit(refusal.limitName)
            throw HandshakeRejection(
                .serviceUnavailable,
                "connection limit reached (\(refusal.limitName))",
                headers: [("Retry-After", String(seconds))]
            )
        }
        if self.services.memory.pressure >= .full {
            self.stats.route(route.name).limitHit(LimitName.maxMemory)
            throw HandshakeRejection(.serviceUnavailable, "gateway memory budget nearly used (max_memory)", headers: [("Retry-After", String(seconds))])
        }
    }

    private func openUpstream(for request: ClientHandshakeRequest, selection: RouteSelection, context: ChannelHandlerContext) {
        guard let cluster = self.active.clusters[selection.route.upstream] else {
            self.reject(HandshakeRejection(.badGateway, "upstream \(selection.route.upstream) is not configured"), context: context)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let client = ForwardedRequest.Client(
            address: context.channel.remoteAddress,
            scheme: self.scheme,
            certificateSubject: self.clientCertificateSubject(context: context)
        )
        cluster.open(
            ForwardedRequest(headers: request.head.headers, host: request.host, path: selection.upstreamPath, client: client),
            offeredSubprotocols: request.subprotocols,
            upstreams: GatewayLoopState.current(for: self.services).upstreams,
            counters: self.stats.upstream(cluster.configuration.name),
            on: context.eventLoop
        ).whenComplete { result in
            let (handler, context) = loopBound.value
            handler.finishUpstreamOpening(request, selection: selection, result: result, context: context)
        }
    }

    private func finishUpstreamOpening(
        _ request: ClientHandshakeRequest,
        selection: RouteSelection,
        result: Result<UpstreamLink, any Error>,
        context: ChannelHandlerContext
    ) {
        switch result {
        case .success(let link):
            self.upgrade(request, route: selection.route, link: link, context: context)
        case .failure(let error as UpstreamError):
            self.reject(error.rejection, context: context)
        case .failure(let error):
            self.reject(HandshakeRejection(.badGateway, "upstream unavailable: \(error)"), context: context)
        }
    }

    /// The verified client certificate's subject (RFC 4514), on a listener with `client_auth`.
    private func clientCertificateSubject(context: ChannelHandlerContext) -> String? {
        guard self.isTLS, let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let certificate = tls.peerCertificate
        else { return nil }
        return ClientCertificateSubject.subject(of: certificate)
    }

    private func upgrade(_ request: ClientHandshakeRequest, route: RouteConfiguration, link: UpstreamLink, context: ChannelHandlerContext) {
        guard case .connectingUpstream = self.state, context.channel.isActive else {
            link.channel?.close(promise: nil)
            return
        }
        self.timeout?.cancel()
        var headers = HTTPHeaders([
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", WebSocketAccept.value(forKey: request.key)),
        ])
        if let subprotocol = link.subprotocol {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        // permessage-deflate is terminated here: negotiated with the client only (the upstream
        // request never carried the client's Sec-WebSocket-Extensions).
        // Near the memory budget, a new compressed session takes no zlib state of its own.
        var compressionConfiguration = route.compression
        if self.services.memory.pressure >= .near {
            compressionConfiguration.contextTakeover = false
        }
        let compression = PerMessageDeflateNegotiation(configuration: compressionConfiguration)
            .negotiate(request.head.headers["Sec-WebSocket-Extensions"])
        if let compression {
            headers.add(name: "Sec-WebSocket-Extensions", value: compression.responseHeader)
        }
        if let response = link.response {
            headers.add(contentsOf: ForwardingPolicy.relayedResponseHeaders(response.headers))
        }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        self.ticket.finishHandshake()
        self.state = .upgrading
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ProxySession.retireHTTPCodecs(client: context.pipeline.syncOperations, upstream: link, on: context.eventLoop)
            .whenComplete { _ in
                let (handler, context) = loopBound.value
                handler.startSession(request, route: route, link: link, compression: compression, context: context)
            }
    }

    private func startSession(
        _ request: ClientHandshakeRequest,
        route: RouteConfiguration,
        link: UpstreamLink,
        compression: PerMessageDeflateAgreement?,
        context: ChannelHandlerContext
    ) {
        guard context.channel.isActive, link.channel?.isActive ?? true else {
            context.close(promise: nil)
            link.channel?.close(promise: nil)
            return
        }
        do {
            try ProxySession.start(
                clientContext: context,
                upstream: link,
                route: route,
                path: String(request.path),
                compression: compression,
                services: self.services,
                countTraffic: self.active.configuration.admin.stats
            )
        } catch {
            context.close(promise: nil)
            link.channel?.close(promise: nil)
        }
    }

    private func reject(_ rejection: HandshakeRejection, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        self.state = .finished
        self.ticket.finishHandshake()
        self.timeout?.cancel()
        self.stats.route(self.routeName ?? StatsLoopState.unrouted).handshakeFailed(status: Int(rejection.status.code))
        self.services.accessLog?.record(.refused(AccessLogEntry.Refusal(
            clientAddress: context.channel.remoteAddress,
            route: self.routeName,
            path: self.target,
            status: Int(rejection.status.code),
            reason: rejection.message,
            duration: .now() - self.accepted
        )))
        rejection.answer.write(to: context, closing: true)
    }

    private func handshakeTimedOut(context: ChannelHandlerContext) {
        guard self.transportReady else {
            // Still in the TLS handshake: an HTTP answer could not be sent.
            self.tlsFailures?.record("not completed within handshake_timeout", remoteAddress: context.channel.remoteAddress)
            self.state = .finished
            context.close(promise: nil)
            return
        }
        switch self.state {
        case .awaitingHead, .awaitingEnd:
            self.reject(HandshakeRejection(.requestTimeout, "handshake not completed in time"), context: context)
        case .connectingUpstream:
            self.reject(HandshakeRejection(.gatewayTimeout, "upstream did not answer in time"), context: context)
        case .upgrading, .finished:
            break
        }
    }
}

@available(*, unavailable)
extension ClientHandshakeHandler: Sendable {}
