import NIOHTTP1

/// One client connection of the HTTP proxy as a value: the exchange in progress (request head →
/// admission → a pooled upstream connection → the request body toward it while the response streams
/// back) and keep-alive between exchanges. NIO's `HTTPServerPipelineHandler` in front hands it one
/// request at a time, so pipelined requests are answered in order. ``HTTPProxyHandler`` feeds it the
/// events of both connections and carries out the returned ``Action``s; it does no I/O.
///
/// - Framing: the request's is checked before anything is forwarded (``HTTPBodyFraming/request(_:maxBody:)``,
///   the smuggling defences); the response is re-framed for the client (``HTTPResponsePlan``).
/// - Bodies stream: each part is forwarded as it arrives; parts that arrive before the upstream
///   connection is there are kept (at most what one read brought: reads are held until then).
/// - The stale keep-alive race: a request without a body of an idempotent method whose pooled
///   connection closes before any byte of the answer is sent again once, on a fresh connection.
/// - Any gateway answer (an error) closes the client connection.
struct HTTPProxyStateMachine {
    /// What the handler does next.
    enum Action: Equatable {
        case none
        /// Admit the request (limits, authentication), then report ``admitted()`` or ``refused(_:)``.
        case admit
        /// Get an upstream connection for the request (`fresh`: a new one), then report
        /// ``leased(reused:)`` or ``leaseFailed(_:)``.
        case lease(fresh: Bool)
        /// The exchange that asked for the upstream connection just reported ended meanwhile: give
        /// it back to its pool unused.
        case returnLease
        /// Write the request head upstream with this body framing, then the body parts kept
        /// meanwhile, then `end` when the request has ended; first answer the client `100 Continue`
        /// when `answerContinue`.
        case forwardRequest(HTTPBodyFraming, answerContinue: Bool, end: RequestEnd?)
        /// Keep the body part just reported until the upstream connection is there.
        case keepBody
        /// Write the body part just reported toward the upstream.
        case forwardBody
        /// End the request toward the upstream.
        case forwardEnd(RequestEnd)
        /// Write this response head to the client.
        case respond(HTTPResponseHead)
        /// Write the response body part just reported to the client.
        case respondBody
        /// The exchange is complete: end the response (with the trailers), give the upstream
        /// connection back (to its pool when `upstreamReusable`), then close the client connection
        /// or wait for its next request.
        case finish(trailers: HTTPHeaders?, upstreamReusable: Bool, closeClient: Bool, HTTPExchangeOutcome)
        /// Answer the client with this error and close; give any upstream connection back closed.
        case reject(HandshakeRejection, HTTPExchangeOutcome)
        /// Close the client connection now (a response was begun, or the client left); give any
        /// upstream connection back closed.
        case abort(HTTPExchangeOutcome)
        /// Close the client connection, which is between exchanges (a graceful shutdown).
        case closeIdle
    }

    /// The end of a request: its trailers, if it had any.
    struct RequestEnd: Equatable {
        var trailers: HTTPHeaders?
    }

    private struct Exchange {
        enum Phase {
            case admitting, leasing, forwarding
        }

        var phase = Phase.admitting
        let method: HTTPMethod
        let framing: HTTPBodyFraming
        let clientVersion: HTTPVersion
        /// Whether the client's connection may carry another request after this one: as its
        /// request says, unless a graceful shutdown began.
        var clientKeepsAlive: Bool
        let expectsContinue: Bool
        let maxBody: Int
        var requestBytes = 0
        /// Of those, the ones kept until the upstream connection is there.
        var keptBytes = 0
        var requestEnd: RequestEnd?
        var reused = false
        var retried = false
        var response: HTTPResponsePlan?
        var responseBytes = 0

        /// Whether the request can be sent again as it is: no body, and a method whose repetition
        /// changes nothing (RFC 9110 section 9.2.2).
        var isRetryable: Bool {
            guard self.framing == .none, !self.retried else { return false }
            return [.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE].contains(self.method)
        }

        func outcome(status: Int) -> HTTPExchangeOutcome {
            HTTPExchangeOutcome(
                status: status,
                requestBytes: self.requestBytes,
                responseBytes: self.responseBytes,
                upstreamAnswered: self.response != nil
            )
        }
    }

    private enum State {
        /// Between exchanges (and before the first).
        case idle
        case exchange(Exchange)
        case closed
    }

    private var state = State.idle
    /// A graceful shutdown began (``drain()``): the exchange in progress is the last.
    private var draining = false

    init() {}

    /// Whether the client may be read: between exchanges, and while the request streams to an
    /// upstream connection (the handler adds the upstream's writability). Reads are held while the
    /// request is admitted and its upstream connection found.
    var mayReadClient: Bool {
        switch self.state {
        case .idle: return true
        case .exchange(let exchange): return exchange.phase == .forwarding
        case .closed: return false
        }
    }

    /// Bytes of the request body kept until the upstream connection is there (the memory budget
    /// counts them).
    var keptBytes: Int {
        guard case .exchange(let exchange) = self.state else { return 0 }
        return exchange.keptBytes
    }

    /// Whether an exchange is in progress (the keep-alive timer runs only between exchanges).
    var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
    }

    // MARK: Client events

    /// A request head arrived; `maxBody` is its route's `max_request_body`.
    mutating func requestHead(_ head: HTTPRequestHead, maxBody: Int) -> Action {
        guard case .idle = self.state else { return .none }
        let framing: HTTPBodyFraming
        do throws(HandshakeRejection) {
            try HTTPRequestTargetRules.check(head)
            framing = try HTTPBodyFraming.request(head, maxBody: maxBody)
        } catch {
            self.state = .closed
            return .reject(error, HTTPExchangeOutcome(status: Int(error.status.code)))
        }
        let expectsContinue =
            framing != .none && (head.version.major > 1 || head.version.minor >= 1)
            && head.headers[canonicalForm: "Expect"].contains { $0.lowercased() == "100-continue" }
        self.state = .exchange(
            Exchange(
                method: head.method,
                framing: framing,
                clientVersion: head.version,
                clientKeepsAlive: HTTPResponsePlan.clientKeepsAlive(head) && !self.draining,
                expectsContinue: expectsContinue,
                maxBody: maxBody
            )
        )
        return .admit
    }

    /// A part of the request body arrived.
    mutating func requestBody(bytes: Int) -> Action {
        guard case .exchange(var exchange) = self.state, exchange.requestEnd == nil else { return .none }
        if exchange.framing == .none {
            // Only an HTTP/2 stream can carry body bytes its head did not announce (a GET without
            // content-length whose HEADERS lacked END_STREAM; NIO's codec adds no framing for it):
            // forwarded unframed, they would be read upstream as a request of their own.
            guard bytes > 0 else { return .none }
            return self.fail(exchange, .badRequest("a request body its head did not announce"))
        }
        exchange.requestBytes += bytes
        if exchange.maxBody > 0, exchange.requestBytes > exchange.maxBody {
            return self.fail(
                exchange,
                HandshakeRejection(.payloadTooLarge, "request body over max_request_body (\(exchange.maxBody) bytes)")
            )
        }
        guard exchange.phase == .forwarding else {
            exchange.keptBytes += bytes
            self.state = .exchange(exchange)
            return .keepBody
        }
        self.state = .exchange(exchange)
        return .forwardBody
    }

    /// The request ended. Its trailers are not forwarded (as nginx): they would reach the upstream
    /// without the forwarding policy, a client's own identity fields among them.
    mutating func requestEnd(trailers: HTTPHeaders?) -> Action {
        guard case .exchange(var exchange) = self.state, exchange.requestEnd == nil else { return .none }
        let end = RequestEnd(trailers: nil)
        exchange.requestEnd = end
        self.state = .exchange(exchange)
        return exchange.phase == .forwarding ? .forwardEnd(end) : .none
    }

    /// The admission step let the request through.
    mutating func admitted() -> Action {
        guard case .exchange(var exchange) = self.state, exchange.phase == .admitting else { return .none }
        exchange.phase = .leasing
        self.state = .exchange(exchange)
        return .lease(fresh: false)
    }

    /// The admission step refused the request with this answer.
    mutating func refused(_ rejection: HandshakeRejection) -> Action {
        guard case .exchange(let exchange) = self.state, exchange.phase == .admitting else { return .none }
        return self.fail(exchange, rejection)
    }

    /// A graceful shutdown began: a connection between exchanges closes now; the exchange in
    /// progress is the connection's last (its answer says `Connection: close` when its head is not
    /// out yet, ``HTTPResponsePlan``), as the ones that follow a head already seen.
    mutating func drain() -> Action {
        self.draining = true
        switch self.state {
        case .idle:
            self.state = .closed
            return .closeIdle
        case .exchange(var exchange):
            exchange.clientKeepsAlive = false
            self.state = .exchange(exchange)
            return .none
        case .closed:
            return .none
        }
    }

    /// The client connection closed.
    mutating func clientClosed() -> Action {
        let previous = self.state
        self.state = .closed
        guard case .exchange(let exchange) = previous else { return .none }
        return .abort(exchange.outcome(status: Int(exchange.response?.head.status.code ?? 0)))
    }

    // MARK: Upstream events

    /// An upstream connection is there; `reused` when it was idle in the pool.
    mutating func leased(reused: Bool) -> Action {
        guard case .exchange(var exchange) = self.state, exchange.phase == .leasing else { return .returnLease }
        exchange.phase = .forwarding
        exchange.reused = reused
        exchange.keptBytes = 0
        self.state = .exchange(exchange)
        return .forwardRequest(
            exchange.framing,
            answerContinue: exchange.expectsContinue && !exchange.retried && exchange.requestBytes == 0,
            end: exchange.requestEnd
        )
    }

    /// No upstream connection could be had; `rejection` is what the client is told.
    mutating func leaseFailed(_ rejection: HandshakeRejection) -> Action {
        guard case .exchange(let exchange) = self.state, exchange.phase == .leasing else { return .none }
        return self.fail(exchange, rejection)
    }

    /// The upstream's response head arrived. An interim one (1xx but 101: `103 Early Hints` from an
    /// HTTP/2 upstream; the HTTP/1 decoder drops them itself) is not relayed: `.none`, the final head
    /// is still to come.
    mutating func responseHead(_ head: HTTPResponseHead) -> Action {
        guard case .exchange(var exchange) = self.state, exchange.phase == .forwarding, exchange.response == nil else {
            return .none
        }
        guard head.status != .switchingProtocols else {
            return self.fail(exchange, HandshakeRejection(.badGateway, "the upstream switched protocols unasked"))
        }
        guard !(100..<200).contains(head.status.code) else { return .none }
        let plan: HTTPResponsePlan
        do throws(HandshakeRejection) {
            plan = try HTTPResponsePlan(
                response: head,
                requestMethod: exchange.method,
                clientVersion: exchange.clientVersion,
                clientKeepsAlive: exchange.clientKeepsAlive
            )
        } catch {
            return self.fail(exchange, error)
        }
        exchange.response = plan
        self.state = .exchange(exchange)
        return .respond(plan.head)
    }

    /// A part of the response body arrived.
    mutating func responseBody(bytes: Int) -> Action {
        guard case .exchange(var exchange) = self.state, exchange.response != nil else { return .none }
        exchange.responseBytes += bytes
        self.state = .exchange(exchange)
        return .respondBody
    }

    /// The response ended. The upstream connection is reusable when the response allows it and the
    /// whole request went; the client's closes when the response says so or its request was cut
    /// short (an upstream may answer before it read the body).
    mutating func responseEnd(trailers: HTTPHeaders?) -> Action {
        guard case .exchange(let exchange) = self.state, let plan = exchange.response else { return .none }
        let requestComplete = exchange.requestEnd != nil
        let closeClient = plan.closesClient || !requestComplete || !exchange.clientKeepsAlive
        self.state = closeClient ? .closed : .idle
        return .finish(
            trailers: trailers.map(ForwardingPolicy.relayedHTTPResponseHeaders),
            upstreamReusable: plan.upstreamKeepsAlive && requestComplete,
            closeClient: closeClient,
            exchange.outcome(status: Int(plan.head.status.code))
        )
    }

    /// The upstream connection closed (or failed) before the response ended.
    mutating func upstreamClosed() -> Action {
        guard case .exchange(var exchange) = self.state, exchange.phase == .forwarding else { return .none }
        if exchange.response != nil {
            self.state = .closed
            return .abort(exchange.outcome(status: Int(exchange.response?.head.status.code ?? 0)))
        }
        if exchange.reused, exchange.isRetryable {
            exchange.retried = true
            exchange.phase = .leasing
            self.state = .exchange(exchange)
            return .lease(fresh: true)
        }
        return self.fail(exchange, HandshakeRejection(.badGateway, "the upstream closed the connection before answering"))
    }

    /// The client sent what the HTTP decoder could not parse (`rejection`: 400, or 431 for a head
    /// over the limits).
    mutating func requestMalformed(_ rejection: HandshakeRejection) -> Action {
        switch self.state {
        case .idle:
            self.state = .closed
            return .reject(rejection, HTTPExchangeOutcome(status: Int(rejection.status.code)))
        case .exchange(let exchange):
            return self.fail(exchange, rejection)
        case .closed:
            return .none
        }
    }

    /// `response_timeout` passed since the request head went upstream.
    mutating func responseTimedOut() -> Action {
        guard case .exchange(let exchange) = self.state, exchange.phase == .forwarding, exchange.response == nil else {
            return .none
        }
        return self.fail(exchange, HandshakeRejection(.gatewayTimeout, "the upstream did not answer within response_timeout"))
    }

    /// Nothing moved either way for `idle_timeout` (a client that stopped sending its body or
    /// reading the answer, an upstream that stopped answering): 408 while the request is unfinished,
    /// 504 while its answer has not begun, else the connection is closed.
    mutating func stalled() -> Action {
        guard case .exchange(let exchange) = self.state else { return .none }
        if exchange.requestEnd == nil {
            return self.fail(exchange, HandshakeRejection(.requestTimeout, "request not completed within idle_timeout"))
        }
        return self.fail(exchange, HandshakeRejection(.gatewayTimeout, "no answer from the upstream within idle_timeout"))
    }

    // MARK: Private

    /// Ends the exchange with an error: an answer while no response was begun, else a close.
    private mutating func fail(_ exchange: Exchange, _ rejection: HandshakeRejection) -> Action {
        self.state = .closed
        if let response = exchange.response {
            return .abort(exchange.outcome(status: Int(response.head.status.code)))
        }
        return .reject(rejection, exchange.outcome(status: Int(rejection.status.code)))
    }
}

/// What one proxied exchange came to, for the route's counters and the access log.
struct HTTPExchangeOutcome: Equatable, Sendable {
    /// The status the client got (0: none, the client left first).
    var status: Int
    var requestBytes = 0
    var responseBytes = 0
    /// Whether the upstream's response head arrived.
    var upstreamAnswered = false
}
