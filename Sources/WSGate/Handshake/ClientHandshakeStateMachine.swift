import NIOHTTP1

/// A client's HTTP/1.1 upgrade handshake as a value type (RFC 6455 section 4.2): what to do on each
/// event of the connection, without touching it. ``ClientHandshakeHandler`` feeds it the events and
/// carries out the returned ``Action``s, as NIO's `NIOTypedHTTPServerUpgradeHandler` does with its
/// state machine.
///
/// The order: (TLS handshake) → request head (size, route, validity, origin) → admission (the
/// connection limits and the memory budget, checked by the handler) → authentication (a route with
/// `auth`: the upstream is never dialled for a refused client) → request end → upstream opened
/// → 101 written and the HTTP codecs gone → session. Any refusal answers an HTTP error and closes;
/// the whole handshake is bounded by one timeout.
///
/// A request that does not ask for a WebSocket, on a route that serves HTTP, takes the other branch:
/// request head (size, route) → admission → the connection becomes an HTTP proxy connection
/// (``Action/proxyHTTP(_:)``), which serves this request and the ones after it.
///
/// HTTP/2: a TLS handshake that negotiated `h2` makes the connection an HTTP/2 connection
/// (``Action/serveHTTP2``); each of its streams then runs a machine of its own (`stream`), in which
/// an extended CONNECT with `:protocol websocket` (RFC 8441 section 4) is the upgrade: the same
/// checks, no request end to wait for (the stream's DATA is the tunnel), answered `200` without
/// `Sec-WebSocket-Accept`; any other CONNECT is 501, any other request the HTTP branch's.
struct ClientHandshakeStateMachine {
    /// What the handler does next.
    enum Action {
        /// Nothing.
        case none
        /// Take a slot of the route and check the memory budget, then report with
        /// ``admission(refusal:memoryPressure:)``.
        case admit(RouteConfiguration)
        /// Run the route's authentication on the request head, then report with ``authenticated(_:)``.
        case authenticate(HTTPRequestHead, RouteConfiguration)
        /// Open the upstream leg, then report with ``upstreamOpened(subprotocol:relayedHeaders:memoryPressure:)``
        /// or ``upstreamFailed(_:)``. An authenticated request carries its admission (what the upstream learns).
        case openUpstream(ClientHandshakeRequest, RouteSelection, AuthAdmission?)
        /// Write this answer (101, or 200 on an HTTP/2 stream) with these headers, give back the
        /// pending-handshake slot, retire the HTTP codecs of both legs, then report with ``codecsRetired()``.
        case answer(HTTPResponseStatus, HTTPHeaders)
        /// The TLS handshake negotiated `h2`: give back the pending-handshake slot and make the
        /// connection an HTTP/2 connection, whose streams each run their own handshake.
        case serveHTTP2
        /// The request is plain HTTP and admitted: hand the connection, with this request head, to the
        /// HTTP proxy.
        case proxyHTTP(HTTPRequestHead)
        /// Hand the connection and its upstream to a new session.
        case startSession(
            ClientHandshakeRequest,
            RouteConfiguration,
            compression: PerMessageDeflateAgreement?,
            auth: AuthAdmission?
        )
        /// Answer with this HTTP error and close; count the limit first when one refused.
        case reject(HandshakeRejection, limitHit: String?)
        /// Close without an HTTP answer: the TLS handshake failed (for this reason) or did not finish.
        case closeAfterTLSFailure(String)
        /// Close (an error after the request was read).
        case close
        /// The upstream leg is no longer wanted: close it.
        case discardUpstream
    }

    private enum State {
        /// On a TLS listener, until its handshake completed: nothing can be answered in HTTP.
        case awaitingTransport
        case awaitingHead
        case awaitingAdmission(ClientHandshakeRequest, RouteSelection)
        /// A plain HTTP request for an HTTP route, waiting for the connection limits' answer.
        case awaitingHTTPAdmission(HTTPRequestHead)
        /// The route's authentication runs; `ended` once the request end arrived meanwhile.
        case authenticating(ClientHandshakeRequest, RouteSelection, ended: Bool)
        case awaitingEnd(ClientHandshakeRequest, RouteSelection, AuthAdmission?)
        case openingUpstream(ClientHandshakeRequest, RouteSelection, AuthAdmission?)
        /// The 101 is written; the HTTP codecs are leaving both legs.
        case upgrading(ClientHandshakeRequest, RouteConfiguration, compression: PerMessageDeflateAgreement?, AuthAdmission?)
        case finished
    }

    /// How long a connection over a connection limit has to send the request head its 503 answers.
    static let refusedHandshakeTimeout = Duration.seconds(1)

    private let routeTable: RouteTable
    /// `defaults.limits.max_headers`.
    private let maxHeaders: Int
    /// `limits.retry_after`, in whole seconds (rounded up), for the `Retry-After` of a 503.
    private let retryAfterSeconds: Int
    private var state: State
    /// On an HTTP/2 stream, what its HEADERS asked for; nil on an HTTP/1.1 connection.
    private let stream: HTTP2StreamKind?
    /// The matched route's name, once known (for the counters and the access log).
    private(set) var routeName: String?
    /// The request path without its query, once the request head arrived (for the access log).
    private(set) var target = ""

    /// - Parameters:
    ///   - isTLS: whether a TLS handshake comes first (``transportReady(negotiatedProtocol:refusedAtAccept:)`` ends it).
    ///   - stream: on an HTTP/2 stream, what its HEADERS asked for (the stream's TLS is its connection's).
    init(routeTable: RouteTable, maxHeaders: Int, retryAfter: Duration, isTLS: Bool, stream: HTTP2StreamKind? = nil) {
        self.routeTable = routeTable
        self.maxHeaders = maxHeaders
        self.retryAfterSeconds = Self.wholeSeconds(retryAfter)
        self.stream = stream
        self.state = isTLS && stream == nil ? .awaitingTransport : .awaitingHead
    }

    /// Whether this is an extended CONNECT stream asking for a WebSocket: its request has no end
    /// before the tunnel, and its answer is 200.
    private var isExtendedConnect: Bool { self.stream?.isWebSocket ?? false }

    /// `limits.retry_after` as a `Retry-After` value: whole seconds, rounded up.
    static func wholeSeconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) + (duration.components.attoseconds > 0 ? 1 : 0)
    }

    /// The time the whole handshake may take, from accept: `handshake_timeout`, and at most
    /// ``refusedHandshakeTimeout`` for a connection refused at accept (read only to be answered 503).
    static func timeout(configured: Duration, refusedAtAccept: Bool) -> Duration {
        refusedAtAccept ? min(configured, Self.refusedHandshakeTimeout) : configured
    }

    /// Whether the connection's reads are held: while the client is authenticated, the upstream
    /// opens and the codecs retire, so that nothing the client sends early is parsed as HTTP or lost.
    var holdsReads: Bool {
        switch self.state {
        case .authenticating, .openingUpstream, .upgrading: return true
        case .awaitingTransport, .awaitingHead, .awaitingAdmission, .awaitingHTTPAdmission, .awaitingEnd, .finished:
            return false
        }
    }

    /// Whether what the connection delivers now are bytes past the handshake, kept for the session.
    var isUpgrading: Bool {
        if case .upgrading = self.state { return true }
        return false
    }

    // MARK: Events

    /// The TLS handshake completed, with the protocol ALPN chose (nil when none was): `h2` makes the
    /// connection an HTTP/2 one (only a listener that offers it can agree on it). A connection refused
    /// at accept (over the connection limits) is kept only to answer its 503; over HTTP/2 it would hold
    /// no slot while serving streams, so it is closed.
    mutating func transportReady(negotiatedProtocol: String? = nil, refusedAtAccept: Bool = false) -> Action {
        guard case .awaitingTransport = self.state else { return .none }
        guard negotiatedProtocol == "h2" else {
            self.state = .awaitingHead
            return .none
        }
        self.state = .finished
        return refusedAtAccept ? .close : .serveHTTP2
    }

    /// The request head arrived.
    mutating func requestHead(_ head: HTTPRequestHead) -> Action {
        guard case .awaitingHead = self.state else { return .none }
        self.target = String(head.uri.prefix { $0 != "?" })
        do throws(HandshakeRejection) {
            try head.checkFieldCount(max: self.maxHeaders)
            if case .malformed(let reason) = self.stream {
                throw HandshakeRejection(.badRequest, reason)
            }
            if case .connect(let name) = self.stream, !self.isExtendedConnect {
                throw HandshakeRejection(
                    .notImplemented,
                    name.map { "extended CONNECT for :protocol \($0) is not served" } ?? "CONNECT is not proxied"
                )
            }
            if !self.isExtendedConnect, let selection = self.httpSelection(head) {
                self.routeName = selection.route.name
                self.state = .awaitingHTTPAdmission(head)
                return .admit(selection.route)
            }
            let (request, selection) = try self.validate(head)
            self.state = .awaitingAdmission(request, selection)
            return .admit(selection.route)
        } catch {
            return self.reject(error)
        }
    }

    /// What the admission check found: the limit that refused the route's slot, if one did, and the
    /// gateway's memory pressure (checked only when a slot was granted).
    mutating func admission(refusal: ConnectionAdmission.Refusal?, memoryPressure: MemoryBudget.Pressure) -> Action {
        switch self.state {
        case .awaitingAdmission, .awaitingHTTPAdmission: break
        default: return .none
        }
        let retryAfter = [("Retry-After", String(self.retryAfterSeconds))]
        if let refusal {
            return self.reject(
                HandshakeRejection(.serviceUnavailable, "connection limit reached (\(refusal.limitName))", headers: retryAfter),
                limitHit: refusal.limitName
            )
        }
        if memoryPressure >= .full {
            return self.reject(
                HandshakeRejection(.serviceUnavailable, "gateway memory budget nearly used (max_memory)", headers: retryAfter),
                limitHit: LimitName.maxMemory
            )
        }
        switch self.state {
        case .awaitingAdmission(let request, let selection):
            // An extended CONNECT's request is its HEADERS: what follows is the tunnel.
            if selection.route.auth != nil {
                self.state = .authenticating(request, selection, ended: self.isExtendedConnect)
                return .authenticate(request.head, selection.route)
            }
            if self.isExtendedConnect {
                self.state = .openingUpstream(request, selection, nil)
                return .openUpstream(request, selection, nil)
            }
            self.state = .awaitingEnd(request, selection, nil)
            return .none
        case .awaitingHTTPAdmission(let head):
            self.state = .finished
            return .proxyHTTP(head)
        default:
            return .none
        }
    }

    /// The route's authentication decided. A refusal is the client's answer; an admission changes
    /// what goes upstream: the token's subprotocol entry is not offered, its query parameter leaves
    /// the path, and the admission's fields go with the request.
    mutating func authenticated(_ decision: AuthDecision) -> Action {
        guard case .authenticating(var request, let selection, let ended) = self.state else { return .none }
        switch decision {
        case .refuse(let failure):
            return self.reject(HandshakeRejection(failure))
        case .admit(let admission):
            request.subprotocols = admission.forwardedSubprotocols(request.subprotocols)
            let forwarded = RouteSelection(route: selection.route, upstreamPath: admission.forwardedPath(selection.upstreamPath))
            guard ended else {
                self.state = .awaitingEnd(request, forwarded, admission)
                return .none
            }
            self.state = .openingUpstream(request, forwarded, admission)
            return .openUpstream(request, forwarded, admission)
        }
    }

    /// The request ended (a body on a GET upgrade is ignored). An extended CONNECT that ends its
    /// stream leaves no tunnel: 400.
    mutating func requestEnd() -> Action {
        if self.isExtendedConnect {
            switch self.state {
            case .awaitingAdmission, .authenticating, .openingUpstream:
                return self.reject(.badRequest("extended CONNECT with END_STREAM: no tunnel"))
            default:
                return .none
            }
        }
        switch self.state {
        case .authenticating(let request, let selection, _):
            self.state = .authenticating(request, selection, ended: true)
            return .none
        case .awaitingEnd(let request, let selection, let admission):
            self.state = .openingUpstream(request, selection, admission)
            return .openUpstream(request, selection, admission)
        default:
            return .none
        }
    }

    /// The upstream accepted: the 101 to write. permessage-deflate is terminated here, negotiated with
    /// the client only (the upstream request never carried the client's `Sec-WebSocket-Extensions`);
    /// near the memory budget, a new compressed session takes no zlib state of its own.
    ///
    /// - Parameter relayedHeaders: the upstream's answer headers that go on to the client.
    mutating func upstreamOpened(
        subprotocol: String?,
        relayedHeaders: [(String, String)],
        memoryPressure: MemoryBudget.Pressure
    ) -> Action {
        guard case .openingUpstream(let request, let selection, let admission) = self.state else { return .discardUpstream }
        // RFC 8441 section 5: a 2xx, without the upgrade mechanics of RFC 6455 section 4.2.2.
        var headers =
            self.isExtendedConnect
            ? HTTPHeaders()
            : HTTPHeaders([
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Accept", WebSocketAccept.value(forKey: request.key)),
            ])
        if let subprotocol {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
        }
        var compressionConfiguration = selection.route.compression
        if memoryPressure >= .near {
            compressionConfiguration.contextTakeover = false
        }
        let compression = PerMessageDeflateNegotiation(configuration: compressionConfiguration)
            .negotiate(request.head.headers["Sec-WebSocket-Extensions"])
        if let compression {
            headers.add(name: "Sec-WebSocket-Extensions", value: compression.responseHeader)
        }
        headers.add(contentsOf: relayedHeaders)
        self.state = .upgrading(request, selection.route, compression: compression, admission)
        return .answer(self.isExtendedConnect ? .ok : .switchingProtocols, headers)
    }

    /// The upstream could not be opened; `rejection` is what the client is told.
    mutating func upstreamFailed(_ rejection: HandshakeRejection) -> Action {
        guard case .openingUpstream = self.state else { return .none }
        return self.reject(rejection)
    }

    /// Both legs' HTTP codecs are gone: the session may start.
    mutating func codecsRetired() -> Action {
        guard case .upgrading(let request, let route, let compression, let admission) = self.state else {
            return .discardUpstream
        }
        return .startSession(request, route, compression: compression, auth: admission)
    }

    /// The handshake handler left the pipeline (the session took over).
    mutating func handedOver() {
        self.state = .finished
    }

    /// The handshake timeout fired.
    mutating func timedOut() -> Action {
        switch self.state {
        case .awaitingTransport:
            self.state = .finished
            return .closeAfterTLSFailure("not completed within handshake_timeout")
        case .awaitingHead, .awaitingAdmission, .awaitingHTTPAdmission, .awaitingEnd:
            return self.reject(HandshakeRejection(.requestTimeout, "handshake not completed in time"))
        case .authenticating:
            return self.reject(HandshakeRejection(.serviceUnavailable, "authentication did not finish in time"))
        case .openingUpstream:
            return self.reject(HandshakeRejection(.gatewayTimeout, "upstream did not answer in time"))
        case .upgrading, .finished:
            return .none
        }
    }

    /// The pipeline reported an error: a failed TLS handshake (plain HTTP on a TLS port, no common
    /// version or cipher, a refused client certificate), or a request the HTTP decoder could not parse.
    mutating func errorCaught(_ description: String) -> Action {
        switch self.state {
        case .awaitingTransport:
            self.state = .finished
            return .closeAfterTLSFailure(description)
        case .awaitingHead:
            return self.reject(.badRequest("malformed HTTP request"))
        case .awaitingAdmission, .awaitingHTTPAdmission, .authenticating, .awaitingEnd, .openingUpstream, .upgrading, .finished:
            // The closing connection ends what is in flight: an upstream arriving now finds it inactive.
            return .close
        }
    }

    // MARK: Private

    /// The HTTP route of a request that does not ask for a WebSocket (no `Upgrade` naming
    /// `websocket`), if one serves it; nil sends the request down the WebSocket checks (which answer
    /// a plain request on a WebSocket-only route 426, as before routes had kinds). Too many header
    /// fields are refused first (431), as for an upgrade.
    private func httpSelection(_ head: HTTPRequestHead) -> RouteSelection? {
        guard !head.asksForWebSocket else { return nil }
        return self.routeTable.match(
            host: head.headers.first(name: "Host"),
            path: head.uri,
            headers: head.headers.map { (name: $0.name, value: $0.value) },
            kind: .http
        )
    }

    /// The checks of an upgrade's head after its header count (431, in ``requestHead(_:)``), in order:
    /// route (404), target and `Host` (400, ``HTTPRequestTargetRules``), RFC 6455 validity (400, 426),
    /// origin (403).
    private mutating func validate(_ head: HTTPRequestHead) throws(HandshakeRejection) -> (ClientHandshakeRequest, RouteSelection)
    {
        let host = head.headers.first(name: "Host")
        guard
            let selection = self.routeTable.match(
                host: host,
                path: head.uri,
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                kind: .webSocket
            )
        else {
            throw HandshakeRejection(.notFound, "no route for \(host ?? "") \(head.uri)")
        }
        self.routeName = selection.route.name
        // The same target rules as a proxied request: an upstream app that resolves `/a/../admin`
        // or reads a second `Host` would otherwise serve another route's path past its auth.
        let request: ClientHandshakeRequest
        switch self.stream {
        case nil:
            try HTTPRequestTargetRules.check(head)
            request = try ClientHandshakeRequest(validating: head)
        case .request:
            throw .badRequest("a WebSocket over HTTP/2 is an extended CONNECT with :protocol websocket (RFC 8441)")
        case .malformed(let reason):
            throw .badRequest(reason)
        case .connect:
            try HTTPRequestTargetRules.checkTarget(head)
            request = try ClientHandshakeRequest(validatingExtendedConnect: head)
        }
        if let origins = selection.route.origins {
            guard let origin = request.origin?.lowercased(), origins.contains(origin) else {
                throw HandshakeRejection(.forbidden, "origin \(request.origin ?? "(none)") is not allowed")
            }
        }
        return (request, selection)
    }

    private mutating func reject(_ rejection: HandshakeRejection, limitHit: String? = nil) -> Action {
        self.state = .finished
        return .reject(rejection, limitHit: limitHit)
    }
}
