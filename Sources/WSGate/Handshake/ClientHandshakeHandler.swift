import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// Carries out a client's upgrade handshake on its connection: translates the connection's events
/// for the ``ClientHandshakeStateMachine`` and performs what it answers (answer an HTTP error and
/// close, open the upstream leg, write the 101, start the session).
///
/// Reads are held while the upstream is being opened, so nothing the client sends early is lost or
/// parsed as HTTP. The whole handshake is bounded by `handshake_timeout`, the TLS handshake included
/// on a TLS listener (the timer starts when the connection is accepted); a connection whose TLS
/// handshake fails or does not finish in time is closed without an HTTP answer.
///
/// On a TLS connection whose ALPN chose `h2` it hands the connection to the HTTP/2 handlers and
/// leaves; each stream of it then gets a handler of its own (`stream`), with the stream's timeout.
final class ClientHandshakeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connection: ClientHandshakeContext
    /// The connection's slots in the connection limits, taken at accept.
    private let ticket: AdmissionTicket
    private var machine: ClientHandshakeStateMachine
    private let accepted = NIODeadline.now()
    private var readPending = false
    /// What the client sent behind its request, kept for the session (``HandshakeLeftovers``).
    private var leftovers = HandshakeLeftovers()
    private var timeout: Scheduled<Void>?
    /// The upstream leg, from its opening to the session's start.
    private var link: UpstreamLink?
    /// The subject's slot in `auth.limits`, from the admission until the session takes it.
    private var subjectLease: SubjectLease?
    /// Whether this handler serves an HTTP/2 stream (not a connection).
    private let isStream: Bool
    /// Set while in the pipeline (for ``negotiatedHTTP2()``, called from the ALPN switch in front).
    private var context: ChannelHandlerContext?

    /// - Parameter stream: on a client's HTTP/2 stream, what its HEADERS asked for.
    init(connection: ClientHandshakeContext, ticket: AdmissionTicket, stream: HTTP2StreamKind? = nil) {
        self.connection = connection
        self.ticket = ticket
        self.isStream = stream != nil
        self.machine = ClientHandshakeStateMachine(
            routeTable: connection.routeTable,
            maxHeaders: connection.configuration.defaults.limits.maxHeaders,
            retryAfter: connection.configuration.limits.retryAfter,
            isTLS: connection.tlsFailures != nil,
            stream: stream
        )
    }

    private var scheme: String { self.connection.tlsFailures != nil ? "https" : "http" }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !self.isStream, self.connection.tlsFailures == nil {
            self.countConnection(http2: false, channel: context.channel)
        }
        let limit = self.timeLimit
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timeout = context.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            let (handler, context) = loopBound.value
            handler.perform(handler.machine.timedOut(), context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.timeout?.cancel()
        self.subjectLease?.release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.machine.isUpgrading {
            // Bytes the client sent right behind its request (its first frames), handed on by the
            // retiring HTTP decoder: not HTTP, and for the session.
            self.leftovers.append(data)
            return
        }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.perform(self.machine.requestHead(head), context: context)
        case .body:
            break
        case .end:
            self.perform(self.machine.requestEnd(), context: context)
        }
    }

    /// `handshake_timeout`, or at most ``ClientHandshakeStateMachine/refusedHandshakeTimeout`` for a
    /// connection refused at accept; an HTTP/2 connection's idle time without streams too.
    private var timeLimit: Duration {
        var refused = false
        if case .refused = self.ticket.acceptance { refused = true }
        return ClientHandshakeStateMachine.timeout(
            configured: self.connection.configuration.defaults.limits.handshakeTimeout,
            refusedAtAccept: refused
        )
    }

    /// Counts the connection under its protocol until it closes.
    private func countConnection(http2: Bool, channel: any Channel) {
        let counters = self.connection.session.stats.protocols
        counters.connectionOpened(http2: http2)
        let closing = NIOLoopBound(counters, eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in closing.value.connectionClosed(http2: http2) }
    }

    /// The TLS handshake chose `h2` (reported by ``ALPNSwitchHandler``, in front of the HTTP/1 decoder).
    func negotiatedHTTP2() {
        guard let context = self.context else { return }
        self.perform(self.machine.transportReady(negotiatedProtocol: "h2"), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            let action = self.machine.transportReady(negotiatedProtocol: negotiated)
            if case .none = action { self.countConnection(http2: false, channel: context.channel) }
            self.perform(action, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.perform(self.machine.errorCaught("\(error)"), context: context)
    }

    func read(context: ChannelHandlerContext) {
        if self.machine.holdsReads {
            self.readPending = true
        } else {
            context.read()
        }
    }

    /// Leaves the pipeline once the session's handlers sit behind this one (``ClientPipeline``),
    /// handing them what the client sent behind its request, then issuing the read it held back.
    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        self.machine.handedOver()
        self.leftovers.replay(context: context)
        if self.readPending {
            self.readPending = false
            context.read()
        }
        context.leavePipeline(removalToken: removalToken)
    }

    // MARK: Actions

    private func perform(_ action: ClientHandshakeStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            return
        case .admit(let route):
            let refusal = self.ticket.admit(route: route.name, routeLimit: route.limits.maxConnections)
            let pressure = refusal == nil ? self.connection.memory.pressure : .normal
            self.perform(self.machine.admission(refusal: refusal, memoryPressure: pressure), context: context)
        case .authenticate(let head, let route):
            self.authenticate(head, route: route, context: context)
        case .openUpstream(let request, let selection, let admission):
            self.openUpstream(for: request, selection: selection, admission: admission, context: context)
        case .answer(let status, let headers):
            self.answer(status, headers, context: context)
        case .serveHTTP2:
            self.serveHTTP2(context: context)
        case .proxyHTTP(let head):
            self.startHTTPProxy(head, context: context)
        case .startSession(let request, let route, let compression, let admission):
            self.startSession(request, route: route, compression: compression, admission: admission, context: context)
        case .reject(let rejection, let limitHit):
            self.reject(rejection, limitHit: limitHit, context: context)
        case .closeAfterTLSFailure(let reason):
            self.connection.tlsFailures?.record(reason, remoteAddress: context.channel.remoteAddress)
            context.close(promise: nil)
        case .close:
            context.close(promise: nil)
        case .discardUpstream:
            self.link?.channel?.close(promise: nil)
            self.link = nil
        }
    }

    /// Asks the route's ``RouteAuthenticator`` (off the loop when it must wait for keys or forward
    /// auth) and counts what it decided.
    private func authenticate(_ head: HTTPRequestHead, route: RouteConfiguration, context: ChannelHandlerContext) {
        guard let authenticator = self.connection.authenticators[route.name] else {
            self.perform(self.machine.authenticated(.refuse(.keysUnavailable)), context: context)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        authenticator.authenticate(head: head, peer: context.channel.remoteAddress, on: context.eventLoop).whenSuccess {
            decision in
            let (handler, context) = loopBound.value
            handler.authenticated(decision, route: route.name, context: context)
        }
    }

    private func authenticated(_ decision: AuthDecision, route: String, context: ChannelHandlerContext) {
        let counters = self.connection.session.stats.route(route)
        switch decision {
        case .admit(let admission):
            counters.authAdmitted()
            guard context.channel.isActive else {
                // The client left while it was checked: `handlerRemoved` ran before this slot existed.
                admission.lease?.release()
                return
            }
            self.subjectLease = admission.lease
        case .refuse(let failure):
            counters.authRefused(failure.reason)
        }
        guard context.channel.isActive else { return }
        self.perform(self.machine.authenticated(decision), context: context)
        if self.readPending, !self.machine.holdsReads {
            self.readPending = false
            context.read()
        }
    }

    private func openUpstream(
        for request: ClientHandshakeRequest,
        selection: RouteSelection,
        admission: AuthAdmission?,
        context: ChannelHandlerContext
    ) {
        guard let cluster = self.connection.clusters[selection.route.upstream] else {
            self.perform(
                self.machine.upstreamFailed(
                    HandshakeRejection(.badGateway, "upstream \(selection.route.upstream) is not configured")
                ),
                context: context
            )
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let client = ForwardedRequest.Client(
            address: context.channel.remoteAddress,
            scheme: self.scheme,
            certificateSubject: self.clientCertificateSubject(context: context)
        )
        cluster.open(
            ForwardedRequest(
                headers: admission?.forwardedHeaders(request.head.headers) ?? request.head.headers,
                host: request.host,
                path: selection.upstreamPath,
                client: client,
                identity: admission?.upstreamHeaders ?? [],
                reservedNames: admission?.reservedNames ?? []
            ),
            offeredSubprotocols: request.subprotocols,
            upstreams: self.connection.upstreamLoop,
            counters: self.connection.session.stats.upstream(cluster.configuration.name),
            on: context.eventLoop
        ).whenComplete { result in
            let (handler, context) = loopBound.value
            handler.upstreamOpened(result, context: context)
        }
    }

    private func upstreamOpened(_ result: Result<UpstreamLink, any Error>, context: ChannelHandlerContext) {
        switch result {
        case .success(let link):
            self.link = link
            guard context.channel.isActive else {
                self.perform(.discardUpstream, context: context)
                return
            }
            let relayed = link.response.map { ForwardingPolicy.relayedResponseHeaders($0.headers) } ?? []
            let action = self.machine.upstreamOpened(
                subprotocol: link.subprotocol,
                relayedHeaders: relayed,
                memoryPressure: self.connection.memory.pressure
            )
            self.perform(action, context: context)
        case .failure(let error as UpstreamError):
            self.perform(self.machine.upstreamFailed(error.rejection), context: context)
        case .failure(let error):
            self.perform(
                self.machine.upstreamFailed(HandshakeRejection(.badGateway, "upstream unavailable: \(error)")),
                context: context
            )
        }
    }

    /// The verified client certificate's subject (RFC 4514), on a listener with `client_auth`.
    private func clientCertificateSubject(context: ChannelHandlerContext) -> String? {
        // A stream's TLS is its connection's (a connection's parent is its listener).
        let connection = self.isStream ? context.channel.parent ?? context.channel : context.channel
        guard self.connection.tlsFailures != nil,
            let tls = try? connection.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let certificate = tls.peerCertificate
        else { return nil }
        return ClientCertificateSubject.subject(of: certificate)
    }

    private func answer(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, context: ChannelHandlerContext) {
        guard let link = self.link else { return }
        self.timeout?.cancel()
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if self.isStream {
            // The stream stays open: its DATA is the tunnel (RFC 8441 section 5).
            context.flush()
        } else {
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
        self.ticket.finishHandshake()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        ClientPipeline.retireHTTPCodecs(
            client: context.pipeline.syncOperations,
            clientIsStream: self.isStream,
            upstream: link,
            on: context.eventLoop
        )
            .whenComplete { _ in
                let (handler, context) = loopBound.value
                handler.perform(handler.machine.codecsRetired(), context: context)
            }
    }

    private func startSession(
        _ request: ClientHandshakeRequest,
        route: RouteConfiguration,
        compression: PerMessageDeflateAgreement?,
        admission: AuthAdmission?,
        context: ChannelHandlerContext
    ) {
        guard let link = self.link else { return }
        self.link = nil
        // The session gives the subject's slot back when it ends.
        self.subjectLease = nil
        if self.isStream { self.connection.session.stats.protocols.webSocketStreamStarted() }
        do {
            try ClientPipeline.startSession(
                handshake: context,
                upstream: link,
                route: route,
                path: String(request.path),
                compression: compression,
                environment: self.connection.session,
                auth: admission,
                clientIsStream: self.isStream
            )
        } catch {
            admission?.lease?.release()
            context.close(promise: nil)
            link.channel?.close(promise: nil)
        }
    }

    /// ALPN chose `h2`: the connection's handshake slot and timer are done; it is an HTTP/2
    /// connection now, closed after the same time without streams.
    private func serveHTTP2(context: ChannelHandlerContext) {
        self.timeout?.cancel()
        self.ticket.finishHandshake()
        self.countConnection(http2: true, channel: context.channel)
        do {
            try ClientPipeline.startHTTP2(
                handshake: context,
                connection: self.connection,
                ticket: self.ticket,
                idleTimeout: TimeAmount(self.timeLimit)
            )
        } catch {
            context.close(promise: nil)
        }
    }

    /// The connection becomes an HTTP proxy connection: its handshake slot and timer are done, and
    /// the proxy takes this request and the ones after it.
    private func startHTTPProxy(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.timeout?.cancel()
        self.ticket.finishHandshake()
        let configuration = self.connection.configuration
        let proxy = HTTPProxyContext(
            routeTable: self.connection.routeTable,
            clusters: self.connection.clusters,
            authenticators: self.connection.authenticators,
            upstreamLoop: self.connection.upstreamLoop,
            memory: self.connection.memory,
            stats: self.connection.session.stats,
            registry: self.connection.httpProxies,
            accessLog: self.connection.session.accessLog,
            client: ForwardedRequest.Client(
                address: context.channel.remoteAddress,
                scheme: self.scheme,
                certificateSubject: self.clientCertificateSubject(context: context)
            ),
            retryAfterSeconds: ClientHandshakeStateMachine.wholeSeconds(configuration.limits.retryAfter),
            keepAliveTimeout: configuration.defaults.limits.handshakeTimeout,
            maxHeaders: configuration.defaults.limits.maxHeaders,
            isStream: self.isStream
        )
        do {
            try ClientPipeline.startHTTPProxy(handshake: context, head: head, proxy: HTTPProxyHandler(proxy: proxy), isStream: self.isStream)
        } catch {
            context.close(promise: nil)
        }
    }

    private func reject(_ rejection: HandshakeRejection, limitHit: String?, context: ChannelHandlerContext) {
        let counters = self.connection.session.stats.route(self.machine.routeName ?? StatsLoopState.unrouted)
        if let limitHit {
            counters.limitHit(limitHit)
        }
        guard context.channel.isActive else { return }
        self.ticket.finishHandshake()
        self.timeout?.cancel()
        counters.handshakeFailed(status: Int(rejection.status.code))
        self.connection.session.accessLog?.record(
            .refused(
                AccessLogEntry.Refusal(
                    clientAddress: context.channel.remoteAddress,
                    route: self.machine.routeName,
                    path: self.machine.target,
                    status: Int(rejection.status.code),
                    reason: rejection.message,
                    duration: .now() - self.accepted
                )
            )
        )
        rejection.answer.write(to: context, closing: true)
    }
}

@available(*, unavailable)
extension ClientHandshakeHandler: Sendable {}
