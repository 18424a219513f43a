import NIOCore

/// How the sessions of one upstream on one EventLoop pick and try its endpoints, as a value, for
/// every transport (an HTTP/1.1 connection per session, or a stream of an HTTP/2 pool).
///
/// It does no I/O. Its runner (``UpstreamLoopOpener``) asks it for an opening, performs the
/// `Action`s it returns (try an endpoint, fail the opening, hand the leg to the session) and feeds it
/// how each attempt ended, in the style of AsyncHTTPClient's `HTTPConnectionPool.StateMachine`.
///
/// - Order: each opening starts one endpoint further (`round_robin`), or with the endpoint the
///   fewest sessions of this loop use or are opening (`least_connections`, the rotation breaking
///   ties); endpoints in back-off come last, as a last resort.
/// - Health: an endpoint that could not be reached goes into back-off (100 ms doubling per failure in
///   a row, at most 30 s); once it has passed, the endpoint takes its turn again, and one success
///   makes it healthy.
/// - An unreachable endpoint passes the opening to the next one (nginx's `proxy_next_upstream error
///   timeout`); a refusal that may pass (an HTTP/2 REFUSED_STREAM) is tried again once, on another
///   endpoint when there is one; any answer from an endpoint is final.
struct UpstreamOpenerStateMachine {
    typealias OpeningID = Int
    typealias EndpointIndex = Int

    /// How one attempt at an endpoint failed, which says what comes next.
    enum AttemptFailure: Equatable {
        /// The endpoint could not be reached (connect failure or timeout, an HTTP/2 endpoint in
        /// back-off or without extended CONNECT): it goes into back-off, the next endpoint is tried.
        case unreachable(UpstreamError)
        /// Refused before any answer, for a reason that may pass: tried again once.
        case refusedBeforeAnswer(UpstreamError)
        /// The endpoint answered, or the opening cannot go on: the opening fails with it.
        case final(UpstreamError)
    }

    enum Action: Equatable {
        /// Try the endpoint for the opening.
        case attempt(OpeningID, endpoint: EndpointIndex)
        /// The opening failed; the client is answered with the error.
        case fail(OpeningID, UpstreamError)
        /// The endpoint's leg is open: hand it to the session.
        case succeed(OpeningID, endpoint: EndpointIndex)
    }

    /// One endpoint as this loop sees it.
    struct Endpoint: Equatable {
        /// Sessions of this loop using the endpoint, or opening a leg to it (`least_connections`).
        var activeLegs = 0
        /// Attempts in a row that could not reach it; non-zero means back-off.
        var failuresInARow = 0
        /// When the back-off ends.
        var backoffEnds: NIODeadline = .distantPast

        func isHealthy(at now: NIODeadline) -> Bool {
            self.failuresInARow == 0 || now >= self.backoffEnds
        }
    }

    /// One session's search for a leg.
    private struct Opening {
        /// The endpoints still to try, the one being tried first.
        var remaining: [EndpointIndex]
        var retried = false
    }

    private(set) var endpoints: [Endpoint]
    private let balance: UpstreamBalance
    /// Where the next opening's rotation starts.
    private var nextFirst = 0
    private var openings: [OpeningID: Opening] = [:]

    init(endpointCount: Int, balance: UpstreamBalance) {
        self.endpoints = Array(repeating: Endpoint(), count: endpointCount)
        self.balance = balance
    }

    // MARK: Events

    /// A session wants a leg.
    mutating func openRequested(_ id: OpeningID, at now: NIODeadline) -> Action {
        let order = self.nextOrder(at: now)
        guard let first = order.first else {
            return .fail(id, UpstreamError(.unreachable, "the upstream has no endpoint"))
        }
        self.openings[id] = Opening(remaining: order)
        return self.attempt(id, endpoint: first)
    }

    /// The attempt of the opening at its current endpoint failed.
    mutating func attemptFailed(_ id: OpeningID, _ failure: AttemptFailure, at now: NIODeadline) -> Action {
        guard var opening = self.openings.removeValue(forKey: id), let current = opening.remaining.first else {
            preconditionFailure("no attempt of opening \(id) is on its way")
        }
        self.endpoints[current].activeLegs -= 1
        switch failure {
        case .unreachable(let error):
            self.endpoints[current].failuresInARow += 1
            self.endpoints[current].backoffEnds = now + Self.backoff(afterFailures: self.endpoints[current].failuresInARow)
            opening.remaining.removeFirst()
            guard let next = opening.remaining.first else { return .fail(id, error) }
            self.openings[id] = opening
            return self.attempt(id, endpoint: next)
        case .refusedBeforeAnswer(let error):
            guard !opening.retried else { return .fail(id, error) }
            opening.retried = true
            // Another endpoint first; this one again only after the others.
            opening.remaining.append(opening.remaining.removeFirst())
            self.openings[id] = opening
            return self.attempt(id, endpoint: opening.remaining[0])
        case .final(let error):
            return .fail(id, error)
        }
    }

    /// The attempt of the opening at its current endpoint opened the leg.
    mutating func attemptSucceeded(_ id: OpeningID) -> Action {
        guard let opening = self.openings.removeValue(forKey: id), let current = opening.remaining.first else {
            preconditionFailure("no attempt of opening \(id) is on its way")
        }
        self.endpoints[current].failuresInARow = 0
        return .succeed(id, endpoint: current)
    }

    /// A leg handed to a session closed.
    mutating func legClosed(endpoint: EndpointIndex) {
        self.endpoints[endpoint].activeLegs -= 1
    }

    // MARK: Order

    /// The order in which the next opening tries the endpoints (each call moves the rotation on).
    mutating func nextOrder(at now: NIODeadline) -> [EndpointIndex] {
        guard !self.endpoints.isEmpty else { return [] }
        let first = self.nextFirst % self.endpoints.count
        self.nextFirst &+= 1
        var order = (0..<self.endpoints.count).map { (first + $0) % self.endpoints.count }
        if self.balance == .leastConnections {
            // Stable: equal counts keep the rotation, so ties still spread.
            order = order.enumerated().sorted {
                (self.endpoints[$0.element].activeLegs, $0.offset) < (self.endpoints[$1.element].activeLegs, $1.offset)
            }.map(\.element)
        }
        // Healthy first, each part in rotation order; nothing to move (the common case) copies nothing.
        guard order.contains(where: { !self.endpoints[$0].isHealthy(at: now) }) else { return order }
        return order.filter { self.endpoints[$0].isHealthy(at: now) } + order.filter { !self.endpoints[$0].isHealthy(at: now) }
    }

    /// 100 ms doubling per failure in a row, capped at 30 s (as the HTTP/2 pools' dialing).
    static func backoff(afterFailures failures: Int) -> TimeAmount {
        HTTP2ConnectionPoolStateMachine.backoff(afterFailures: failures)
    }

    // MARK: Private

    private mutating func attempt(_ id: OpeningID, endpoint: EndpointIndex) -> Action {
        self.endpoints[endpoint].activeLegs += 1
        return .attempt(id, endpoint: endpoint)
    }
}
