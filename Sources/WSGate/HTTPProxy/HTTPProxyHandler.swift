import NIOCore
import NIOHTTP1

/// Proxies a client connection's plain HTTP requests: routes each one, translates the events of
/// the client connection and of the pooled upstream connection lent to the exchange for the
/// ``HTTPProxyStateMachine``, and performs what it answers.
///
/// Backpressure both ways: the client is read only while the upstream connection is writable, the
/// upstream only while the client connection is writable, so an exchange holds at most the channels'
/// write buffers (their high water marks) plus one read in each direction, whatever the body size.
/// What a read brings is flushed at its end: Server-Sent Events and long polls go out event by event.
final class HTTPProxyHandler: ChannelDuplexHandler, HTTP1UpstreamExchange {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The request in progress, as the handler needs it beyond the machine.
    private struct Current {
        var head: HTTPRequestHead
        var selection: RouteSelection
        var cluster: UpstreamCluster
        var started: NIODeadline
        /// When the request head went upstream.
        var forwarded: NIODeadline?
        var upstreamLatency: TimeAmount?
        /// Body parts that arrived before the upstream connection.
        var kept: [ByteBuffer] = []
        /// What the route's `auth` admitted (what the upstream learns); `nil` on a route without.
        var admission: AuthAdmission?
    }

    private let proxy: HTTPProxyContext
    /// Unique among the gateway's sessions and HTTP connections (the memory budget's key).
    let id = SessionRegistry.makeID()
    private var machine = HTTPProxyStateMachine()
    private var context: ChannelHandlerContext?
    private var current: Current?
    private var lease: HTTPUpstreamLease?
    /// The body part being reported to the machine (forwarded or kept as it answers).
    private var part: ByteBuffer?
    private var readPending = false
    /// When `response_timeout` ends for the exchange in progress: from its request's end going
    /// upstream until the response head.
    private var responseDeadline: NIODeadline?
    /// The exchange's `idle_timeout`, counted from ``lastProgress`` (nil: none, or no exchange).
    private var stallLimit: TimeAmount?
    /// When the connection, waiting for its next request, is closed.
    private var keepAliveDeadline: NIODeadline?
    /// When a head or body part last moved either way in the exchange in progress.
    private var lastProgress = NIODeadline.now()
    /// The connection's one timer, due at ``timerDue`` (the earliest of the deadlines above when it
    /// was armed; a deadline that moves later costs nothing: the timer finds it not due and re-arms).
    private var timer: Scheduled<Void>?
    private var timerDue = NIODeadline.distantFuture
    /// The connection is closing between exchanges once its buffered writes are out (``closeIdle(context:)``).
    private var closingOutput = false

    init(proxy: HTTPProxyContext) {
        self.proxy = proxy
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.proxy.registry.register(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.cancelTimers()
        self.proxy.registry.unregister(self)
        self.lease?.release(reusable: false)
        self.lease = nil
        self.current?.admission?.lease?.release()
        self.context = nil
    }

    /// Bytes waiting to be written to the client and to the upstream connection of the exchange in
    /// progress, and the request body kept until that connection is there: what the memory budget
    /// counts of this connection.
    var queuedBytes: Int {
        // An HTTP/2 stream has no such option (asking traps); what waits on it is bounded by its
        // outbound high water mark (`listeners[].http2.initial_window_size`), as it stops the upstream.
        let client =
            self.proxy.isStream ? 0 : ((try? self.context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0)
        return client + (self.lease?.handler.queuedBytes ?? 0) + self.machine.keptBytes
    }

    /// The gateway is over `limits.max_memory` and this connection holds among the most: it is
    /// closed (counted as limit `max_memory` on its route).
    func closeForMemoryBudget() {
        guard let context = self.context else { return }
        self.current.map { self.proxy.stats.route($0.selection.route.name).limitHit(LimitName.maxMemory) }
        context.close(promise: nil)
    }

    /// A graceful shutdown began (``HTTPProxyRegistry/drain()``).
    func drain() {
        guard let context = self.context else { return }
        self.perform(self.machine.drain(), context: context)
    }

    /// The drain's grace is over: the connection closes, exchange in progress or not.
    func close() {
        self.context?.close(promise: nil)
    }

    // MARK: Client events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Closing once the last answer is out: a request now would get no answer.
        guard !self.closingOutput else { return }
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.keepAliveDeadline = nil
            self.requestHead(head, context: context)
        case .body(let buffer):
            self.lastProgress = .now()
            self.part = buffer
            self.perform(self.machine.requestBody(bytes: buffer.readableBytes), context: context)
            self.part = nil
        case .end(let trailers):
            self.lastProgress = .now()
            self.perform(self.machine.requestEnd(trailers: trailers), context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.lease?.handler.flush()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.perform(self.machine.clientClosed(), context: context)
        self.cancelTimers()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.lease?.handler.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Only the decoder's complaint about a request is answered; anything else (a reset, a cut
        // message after the close) means the client is gone, and an answer written then would be
        // a response to no request (NIO's HTTPServerPipelineHandler traps on that in debug builds).
        guard context.channel.isActive, let parserError = error as? HTTPParserError else {
            self.perform(self.machine.clientClosed(), context: context)
            context.close(promise: nil)
            return
        }
        let rejection =
            parserError == .headerOverflow
            ? HandshakeRejection(.requestHeaderFieldsTooLarge, "request header fields too large")
            : HandshakeRejection.badRequest("malformed HTTP request")
        self.perform(self.machine.requestMalformed(rejection), context: context)
    }

    func read(context: ChannelHandlerContext) {
        if self.mayReadClient {
            context.read()
        } else {
            self.readPending = true
        }
    }

    // MARK: Upstream events (HTTP1UpstreamExchange)

    var mayReadUpstream: Bool { self.context?.channel.isWritable ?? false }

    func upstreamResponse(_ part: HTTPClientResponsePart) {
        guard let context = self.context else { return }
        self.lastProgress = .now()
        switch part {
        case .head(let head):
            let action = self.machine.responseHead(head)
            if case .respond = action {
                // The final head (an interim 1xx is `.none`): response_timeout is met.
                self.responseDeadline = nil
                if let forwarded = self.current?.forwarded {
                    self.current?.upstreamLatency = .now() - forwarded
                }
            }
            self.perform(action, context: context)
        case .body(let buffer):
            self.part = buffer
            self.perform(self.machine.responseBody(bytes: buffer.readableBytes), context: context)
            self.part = nil
        case .end(let trailers):
            self.perform(self.machine.responseEnd(trailers: trailers), context: context)
        }
    }

    func upstreamReadComplete() {
        self.context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { self.resumeClientReading() }
    }

    func upstreamClosed() {
        guard let context = self.context else { return }
        self.lease?.release(reusable: false)
        self.lease = nil
        self.perform(self.machine.upstreamClosed(), context: context)
    }

    // MARK: Actions

    /// Routes the request, then hands it to the machine. A request the table has no HTTP route for
    /// is 404; a WebSocket upgrade behind HTTP requests on a connection is 400 (it needs a
    /// connection of its own: browsers and WebSocket clients open one).
    private func requestHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        do throws(HandshakeRejection) {
            try head.checkFieldCount(max: self.proxy.maxHeaders)
        } catch {
            self.current = nil
            self.perform(self.machine.requestMalformed(error), context: context, head: head)
            return
        }
        let selection = self.proxy.routeTable.match(
            host: head.headers.first(name: "Host"),
            path: head.uri,
            headers: head.headers,
            kind: .http
        )
        guard !head.asksForWebSocket, let selection, let cluster = self.proxy.clusters[selection.route.upstream]
        else {
            self.current = nil
            let rejection =
                selection == nil
                ? HandshakeRejection(.notFound, "no route for \(head.headers.first(name: "Host") ?? "") \(head.uri)")
                : HandshakeRejection.badRequest("a WebSocket upgrade needs a connection of its own")
            self.perform(self.machine.requestMalformed(rejection), context: context, head: head)
            return
        }
        self.current = Current(head: head, selection: selection, cluster: cluster, started: .now())
        let action = self.machine.requestHead(head, maxBody: selection.route.limits.maxRequestBody)
        if self.proxy.registry.isDraining {
            // It joined during a graceful shutdown: this exchange is its last.
            _ = self.machine.drain()
        }
        self.lastProgress = .now()
        let idleTimeout = selection.route.limits.idleTimeout
        self.stallLimit = idleTimeout > .zero ? TimeAmount(idleTimeout) : nil
        self.armTimer(context: context)
        self.perform(action, context: context)
    }

    private func perform(_ action: HTTPProxyStateMachine.Action, context: ChannelHandlerContext, head: HTTPRequestHead? = nil) {
        switch action {
        case .none:
            return
        case .admit:
            self.admit(context: context)
        case .lease(let fresh):
            self.openUpstream(fresh: fresh, context: context)
        case .returnLease:
            return
        case .forwardRequest(let framing, let answerContinue, let end):
            self.forwardRequest(framing: framing, answerContinue: answerContinue, end: end, context: context)
        case .keepBody:
            if let part = self.part { self.current?.kept.append(part) }
        case .forwardBody:
            if let part = self.part { self.lease?.handler.write(.body(.byteBuffer(part))) }
        case .forwardEnd(let end):
            self.lease?.handler.write(.end(end.trailers))
            self.lease?.handler.flush()
            self.armResponseTimer(context: context)
        case .respond(let responseHead):
            context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
        case .respondBody:
            if let part = self.part { context.write(self.wrapOutboundOut(.body(.byteBuffer(part))), promise: nil) }
        case .finish(let trailers, let reusable, let closeClient, let outcome):
            // First: writing the end may hand the next pipelined request to this handler at once.
            self.endExchange(outcome, upstreamReusable: reusable, reason: nil, context: context)
            if closeClient {
                let written = context.writeAndFlush(self.wrapOutboundOut(.end(trailers)))
                self.closeIdle(context: context, after: written)
            } else {
                context.writeAndFlush(self.wrapOutboundOut(.end(trailers)), promise: nil)
                self.armKeepAliveTimer(context: context)
                self.resumeClientReading()
            }
        case .reject(let rejection, let outcome):
            self.endExchange(outcome, upstreamReusable: false, reason: rejection.message, head: head, context: context)
            guard context.channel.isActive else { return }
            rejection.answer.write(to: context, closing: true)
        case .abort(let outcome):
            self.endExchange(outcome, upstreamReusable: false, reason: "connection closed mid-exchange", context: context)
            context.close(promise: nil)
        case .closeIdle:
            self.closeIdle(context: context)
        }
    }

    /// Closes the connection between exchanges once the last answer is out (a graceful shutdown, or
    /// an answer that ends the connection: `Connection: close`, HTTP/1.0): a slow reader may still
    /// have its end in the write buffer, which a plain close would drop (a body cut short but logged
    /// 2xx). The output closes after the buffered writes, then the connection; one whose reader takes
    /// nothing for `handshake_timeout` more is cut then (the keep-alive timer), as nginx's
    /// `send_timeout` cuts a reader that stopped. An HTTP/2 stream closes once `lastWrite` (its
    /// answer's end) is written, or at that deadline; one with no answer begun closes at once.
    private func closeIdle(context: ChannelHandlerContext, after lastWrite: EventLoopFuture<Void>? = nil) {
        if self.closingOutput {
            context.close(promise: nil)
            return
        }
        if self.proxy.isStream {
            // A stream has no buffered-bytes option (asking traps), and a close drops the DATA it
            // still holds: the close waits for the end, the deadline for a client giving no window.
            guard let lastWrite else {
                context.close(promise: nil)
                return
            }
            self.closingOutput = true
            lastWrite.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            self.armKeepAliveTimer(context: context)
            return
        }
        let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        guard buffered > 0 else {
            context.close(promise: nil)
            return
        }
        self.closingOutput = true
        context.close(mode: .output).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        self.armKeepAliveTimer(context: context)
    }

    /// Where a request is admitted: the memory budget (503 with `Retry-After` near it), then, on a
    /// route with `auth`, the route's ``RouteAuthenticator`` on the request head, the same call as a
    /// WebSocket handshake's (reads stay held meanwhile; the upstream is not leased for a refusal).
    private func admit(context: ChannelHandlerContext) {
        if self.proxy.memory.pressure >= .full {
            self.current.map { self.proxy.stats.route($0.selection.route.name).limitHit(LimitName.maxMemory) }
            let rejection = HandshakeRejection(
                .serviceUnavailable,
                "gateway memory budget nearly used (max_memory)",
                headers: [("Retry-After", String(self.proxy.retryAfterSeconds))]
            )
            self.perform(self.machine.refused(rejection), context: context)
            return
        }
        guard let current = self.current, current.selection.route.auth != nil else {
            self.perform(self.machine.admitted(), context: context)
            return
        }
        guard let authenticator = self.proxy.authenticators[current.selection.route.name] else {
            // A route with `auth` is never admitted unchecked (as in the WebSocket handshake).
            self.authenticated(.refuse(.keysUnavailable), context: context)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        authenticator.authenticate(head: current.head, peer: context.channel.remoteAddress, on: context.eventLoop)
            .whenSuccess { decision in
                let (handler, context) = loopBound.value
                handler.authenticated(decision, context: context)
            }
    }

    private func authenticated(_ decision: AuthDecision, context: ChannelHandlerContext) {
        guard let route = self.current?.selection.route.name else {
            if case .admit(let admission) = decision { admission.lease?.release() }
            return
        }
        let counters = self.proxy.stats.route(route)
        switch decision {
        case .admit(let admission):
            counters.authAdmitted()
            self.current?.admission = admission
            self.perform(self.machine.admitted(), context: context)
        case .refuse(let failure):
            counters.authRefused(failure.reason)
            self.perform(self.machine.refused(HandshakeRejection(failure)), context: context)
        }
    }

    private func openUpstream(fresh: Bool, context: ChannelHandlerContext) {
        guard let current = self.current else { return }
        if fresh {
            self.proxy.stats.route(current.selection.route.name).http.staleRetried()
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        current.cluster.openHTTP(
            fresh: fresh,
            upstreams: self.proxy.upstreamLoop,
            counters: self.proxy.stats.upstream(current.cluster.configuration.name),
            on: context.eventLoop
        ).whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let lease):
                guard context.channel.isActive, handler.lease == nil else {
                    lease.release(reusable: false)
                    return
                }
                let action = handler.machine.leased(reused: lease.reused)
                guard action != .returnLease else {
                    lease.release(reusable: true)
                    return
                }
                handler.lease = lease
                lease.handler.exchange = handler
                handler.perform(action, context: context)
            case .failure(let error):
                let rejection =
                    (error as? UpstreamError)?.rejection ?? HandshakeRejection(.badGateway, "upstream unavailable: \(error)")
                handler.perform(handler.machine.leaseFailed(rejection), context: context)
            }
        }
    }

    /// The re-serialised request head (the one forwarding policy, ``ForwardedFields/httpRequestHead(method:framing:authority:)``),
    /// what was kept of the body, and its end.
    private func forwardRequest(
        framing: HTTPBodyFraming,
        answerContinue: Bool,
        end: HTTPProxyStateMachine.RequestEnd?,
        context: ChannelHandlerContext
    ) {
        guard let current = self.current, let lease = self.lease else { return }
        let upstream = lease.handler
        let fields = current.cluster.forwardingPolicy.fields(
            for: ForwardedRequest(
                headers: current.admission?.forwardedHeaders(current.head.headers) ?? current.head.headers,
                host: current.head.headers.first(name: "Host"),
                path: current.admission?.forwardedPath(current.selection.upstreamPath) ?? current.selection.upstreamPath,
                client: self.proxy.client,
                identity: current.admission?.upstreamHeaders ?? [],
                reservedNames: current.admission?.reservedNames ?? []
            )
        )
        if answerContinue {
            context.writeAndFlush(
                self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))),
                promise: nil
            )
        }
        upstream.write(.head(fields.httpRequestHead(method: current.head.method, framing: framing, authority: lease.endpoint)))
        for part in current.kept {
            upstream.write(.body(.byteBuffer(part)))
        }
        self.current?.kept = []
        if let end {
            upstream.write(.end(end.trailers))
        }
        upstream.flush()
        self.current?.forwarded = .now()
        if end != nil { self.armResponseTimer(context: context) }
        self.resumeClientReading()
    }

    /// Gives the upstream connection back, counts the exchange on its route and logs it.
    private func endExchange(
        _ outcome: HTTPExchangeOutcome,
        upstreamReusable: Bool,
        reason: String?,
        head: HTTPRequestHead? = nil,
        context: ChannelHandlerContext
    ) {
        self.responseDeadline = nil
        self.stallLimit = nil
        let endpoint = self.lease?.endpoint
        self.lease?.release(reusable: upstreamReusable)
        self.lease = nil
        let current = self.current
        self.current = nil
        current?.admission?.lease?.release()
        let route = current?.selection.route.name
        self.proxy.stats.route(route ?? StatsLoopState.unrouted).http.requestEnded(
            status: outcome.status,
            requestBytes: outcome.requestBytes,
            responseBytes: outcome.responseBytes,
            upstreamLatencyNanoseconds: current?.upstreamLatency?.nanoseconds
        )
        guard let accessLog = self.proxy.accessLog, let head = current?.head ?? head else { return }
        accessLog.record(
            .request(
                AccessLogEntry.Request(
                    clientAddress: context.channel.remoteAddress,
                    route: route,
                    upstream: outcome.upstreamAnswered ? endpoint : nil,
                    method: head.method.rawValue,
                    path: String(head.uri.prefix { $0 != "?" }),
                    status: outcome.status,
                    bytesIn: outcome.requestBytes,
                    bytesOut: outcome.responseBytes,
                    duration: .now() - (current?.started ?? .now()),
                    upstreamDuration: current?.upstreamLatency,
                    reason: reason,
                    subject: current?.admission?.subject
                )
            )
        )
    }

    // MARK: Reads and timers

    private var mayReadClient: Bool {
        guard self.machine.mayReadClient else { return false }
        return self.lease?.handler.isWritable ?? true
    }

    private func resumeClientReading() {
        guard self.readPending, self.mayReadClient, let context = self.context else { return }
        self.readPending = false
        context.read()
    }

    /// `response_timeout` runs from the request's end going upstream (as Envoy's route timeout): an
    /// upload as slow as `idle_timeout` allows is not cut by it; a stalled one is `idle_timeout`'s.
    private func armResponseTimer(context: ChannelHandlerContext) {
        guard let timeout = self.current?.selection.route.limits.responseTimeout else { return }
        self.responseDeadline = .now() + TimeAmount(timeout)
        self.armTimer(context: context)
    }

    /// Between requests the connection waits `handshake_timeout` for the next one, then closes.
    private func armKeepAliveTimer(context: ChannelHandlerContext) {
        self.keepAliveDeadline = .now() + TimeAmount(self.proxy.keepAliveTimeout)
        self.armTimer(context: context)
    }

    /// Makes the timer due no later than the earliest deadline. One timer per connection, not one
    /// per request and kind: a request that moves the deadlines later schedules nothing.
    private func armTimer(context: ChannelHandlerContext) {
        func earliest(_ a: NIODeadline?, _ b: NIODeadline?) -> NIODeadline? {
            guard let a, let b else { return a ?? b }
            return min(a, b)
        }
        let stallDue = self.stallLimit.map { self.lastProgress + $0 }
        guard let due = earliest(earliest(self.responseDeadline, stallDue), self.keepAliveDeadline), self.context != nil
        else { return }
        if self.timer != nil, self.timerDue <= due { return }
        self.timer?.cancel()
        self.timerDue = due
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            handler.timerFired(context: context)
        }
    }

    /// Whatever deadline passed: an idle keep-alive connection closes; an exchange whose upstream
    /// did not answer within `response_timeout` is 504; one where nothing moved either way for
    /// `idle_timeout` is the machine's ``HTTPProxyStateMachine/stalled()``.
    private func timerFired(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let deadline = self.keepAliveDeadline, deadline <= now {
            self.keepAliveDeadline = nil
            if self.machine.isIdle || self.closingOutput {
                self.closeIdle(context: context)
                return
            }
        }
        if let deadline = self.responseDeadline, deadline <= now {
            self.responseDeadline = nil
            self.perform(self.machine.responseTimedOut(), context: context)
        }
        if let limit = self.stallLimit, now - self.lastProgress >= limit {
            self.stallLimit = nil
            self.perform(self.machine.stalled(), context: context)
        }
        self.armTimer(context: context)
    }

    private func cancelTimers() {
        self.timer?.cancel()
        self.timer = nil
        self.responseDeadline = nil
        self.stallLimit = nil
        self.keepAliveDeadline = nil
    }
}

@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}
