import NIOCore

/// The keep-alive pool of one endpoint on one EventLoop, as a value: which idle connection a request
/// takes, which connection goes back to the pool after its response and which is closed. It does no
/// I/O; ``HTTP1ConnectionPool`` runs it.
///
/// - A request takes the connection that went idle last (the one least likely to have been closed by
///   the upstream's own idle timer); one idle longer than `idle_timeout` is closed instead.
/// - A connection goes back only when its exchange left it reusable and fewer than
///   `max_idle_per_loop` are idle; one that served `max_requests` is closed.
struct HTTP1ConnectionPoolStateMachine {
    typealias ConnectionID = Int

    /// What to do for a request.
    enum Lease: Equatable {
        /// Lend this idle connection.
        case reuse(ConnectionID)
        /// Dial a new connection.
        case connect
    }

    private struct Idle {
        var id: ConnectionID
        var since: NIODeadline
    }

    private let configuration: HTTPPoolConfiguration
    /// Idle connections, the most recently idle last.
    private var idle: [Idle] = []
    /// Requests each open connection carried.
    private var requests: [ConnectionID: Int] = [:]
    private(set) var figures = HTTP1PoolFigures()

    init(configuration: HTTPPoolConfiguration) {
        self.configuration = configuration
    }

    var idleCount: Int { self.idle.count }

    /// A request wants a connection; `fresh` asks for a new one (the retry after a stale one).
    /// `expired` are idle connections found past `idle_timeout` on the way: close them.
    mutating func lease(fresh: Bool, at now: NIODeadline) -> (lease: Lease, expired: [ConnectionID]) {
        let expired = self.expire(at: now)
        guard !fresh, let last = self.idle.popLast() else {
            return (.connect, expired)
        }
        self.requests[last.id, default: 0] += 1
        self.figures.reused += 1
        return (.reuse(last.id), expired)
    }

    /// A dialled connection joined the pool, lent to the request that dialled it.
    mutating func connected(_ id: ConnectionID) {
        self.requests[id] = 1
        self.figures.connected += 1
        self.figures.open += 1
    }

    /// A lent connection's exchange ended; whether it stays open (idle) or is closed now.
    mutating func released(_ id: ConnectionID, reusable: Bool, at now: NIODeadline) -> Bool {
        let served = self.requests[id] ?? 0
        let limit = self.configuration.maxRequests
        guard reusable, limit == 0 || served < limit, self.idle.count < self.configuration.maxIdlePerLoop else {
            return false
        }
        self.idle.append(Idle(id: id, since: now))
        return true
    }

    mutating func recordStaleRetry() {
        self.figures.staleRetries += 1
    }

    /// The connection closed (either side, lent or idle).
    mutating func closed(_ id: ConnectionID) {
        guard self.requests.removeValue(forKey: id) != nil else { return }
        self.figures.open -= 1
        self.idle.removeAll { $0.id == id }
    }

    /// Idle connections past `idle_timeout`, taken out of the pool: close them.
    mutating func expire(at now: NIODeadline) -> [ConnectionID] {
        let limit = TimeAmount(self.configuration.idleTimeout)
        let expired = self.idle.filter { now - $0.since >= limit }.map(\.id)
        if !expired.isEmpty {
            self.idle.removeAll { now - $0.since >= limit }
        }
        return expired
    }
}

/// What a keep-alive pool did, per endpoint and loop (or summed).
struct HTTP1PoolFigures: Sendable, Equatable {
    /// Connections dialled.
    var connected = 0
    /// Requests that took an idle connection.
    var reused = 0
    /// Connections open now (lent or idle).
    var open = 0
    /// Of those, idle in the pool.
    var idle = 0
    /// Requests retried on a fresh connection after their pooled one closed before answering.
    var staleRetries = 0

    static func + (lhs: Self, rhs: Self) -> Self {
        Self(
            connected: lhs.connected + rhs.connected,
            reused: lhs.reused + rhs.reused,
            open: lhs.open + rhs.open,
            idle: lhs.idle + rhs.idle,
            staleRetries: lhs.staleRetries + rhs.staleRetries
        )
    }
}
