import NIOCore

/// The rules of one endpoint's HTTP/2 connection pool on one EventLoop, as a value: which connection
/// takes the next stream, when to open or close a connection, when an endpoint is down.
///
/// It does no I/O. Its runner (`HTTP2ConnectionPool`) feeds it what happened (a connection's first
/// SETTINGS, a stream closing, GOAWAY, a connect failure, a timer) and performs the `Action`s it
/// returns, in the style of AsyncHTTPClient's `HTTPConnectionPool.StateMachine`.
///
/// A connection only takes streams once the server's first SETTINGS frame has arrived with
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441 section 3); a server without it is an error of
/// the endpoint, reported once. Each connection takes at most `min(max_streams_per_connection,
/// the server's SETTINGS_MAX_CONCURRENT_STREAMS)` streams. A stream request finding every connection
/// full waits, and a new connection opens while fewer than `maxConnections` exist.
struct HTTP2ConnectionPoolStateMachine {
    typealias ConnectionID = Int
    typealias RequestID = Int

    struct Configuration: Equatable {
        /// Connections kept open, re-opened after a loss or GOAWAY.
        var minConnections: Int
        var maxConnections: Int
        var maxStreamsPerConnection: Int

        init(minConnections: Int, maxConnections: Int, maxStreamsPerConnection: Int) {
            self.minConnections = minConnections
            self.maxConnections = max(maxConnections, 1)
            self.maxStreamsPerConnection = max(maxStreamsPerConnection, 1)
        }

        init(_ pool: HTTP2PoolConfiguration) {
            self.init(
                minConnections: pool.connectionsPerLoop,
                maxConnections: pool.maxConnectionsPerLoop,
                maxStreamsPerConnection: pool.maxStreamsPerConnection
            )
        }
    }

    /// Why waiting stream requests were failed.
    enum Failure: Equatable, Sendable {
        /// The endpoint could not be reached (connect failure, connection lost before SETTINGS) or
        /// is in back-off.
        case unreachable
        /// The server does not accept extended CONNECT (no `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`).
        case extendedConnectUnsupported
        /// The pool is shutting down.
        case shutdown
    }

    enum Action: Equatable {
        /// Dial a new connection.
        case createConnection(ConnectionID)
        /// Open a stream on the connection for the request (capacity is already reserved).
        case openStream(RequestID, on: ConnectionID)
        /// Fail waiting requests.
        case failRequests([RequestID], Failure)
        case closeConnection(ConnectionID)
        /// Start the idle timer of an extra connection that has no stream left (the runner cancels
        /// it when the connection takes a stream or closes).
        case scheduleIdleTimeout(ConnectionID)
        /// Try the endpoint again after `delay`.
        case scheduleBackoff(TimeAmount)
        /// Log that the endpoint refuses extended CONNECT (emitted once per pool).
        case reportExtendedConnectUnsupported
    }

    enum ConnectionState: Equatable {
        /// Connecting, or connected and waiting for the server's first SETTINGS.
        case starting
        /// Takes streams up to `maxStreams`.
        case ready(openStreams: Int, maxStreams: Int)
        /// GOAWAY received (or the pool closes it): no new streams; closes when the last one ends.
        case draining(openStreams: Int)
    }

    private(set) var connections: [(id: ConnectionID, state: ConnectionState)] = []
    private(set) var waiting: [RequestID] = []
    private let configuration: Configuration
    private var nextConnectionID = 0
    /// Connect failures in a row; non-zero means the endpoint is in back-off.
    private(set) var failedAttempts = 0
    private var backoffScheduled = false
    private var reportedExtendedConnectUnsupported = false
    private(set) var isShuttingDown = false

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: Queries

    /// Whether new sessions should pick this endpoint: not in back-off, not refusing extended CONNECT.
    var isHealthy: Bool { self.failedAttempts == 0 && !self.reportedExtendedConnectUnsupported }

    var activeStreams: Int {
        self.connections.reduce(0) { total, connection in
            switch connection.state {
            case .starting: return total
            case .ready(let open, _), .draining(let open): return total + open
            }
        }
    }

    // MARK: Events

    /// Opens the connections kept warm.
    mutating func start() -> [Action] {
        self.fillUp()
    }

    /// A session wants a stream.
    mutating func requestStream(_ request: RequestID) -> [Action] {
        if self.isShuttingDown {
            return [.failRequests([request], .shutdown)]
        }
        if self.reportedExtendedConnectUnsupported, !self.connections.contains(where: { $0.state == .starting }) {
            return [.failRequests([request], .extendedConnectUnsupported)]
        }
        if let action = self.reserveStream(for: request) {
            return [action]
        }
        if self.failedAttempts > 0, !self.connections.contains(where: { $0.state == .starting }) {
            // In back-off with nothing on its way: the session tries another endpoint at once.
            return [.failRequests([request], .unreachable)]
        }
        self.waiting.append(request)
        return self.openConnectionIfAllFull()
    }

    /// A waiting request gave up (its deadline passed); it leaves the queue.
    mutating func cancelRequest(_ request: RequestID) {
        self.waiting.removeAll { $0 == request }
    }

    /// The connection's first SETTINGS frame arrived.
    mutating func connectionReady(_ id: ConnectionID, maxConcurrentStreams: Int?, supportsExtendedConnect: Bool) -> [Action] {
        guard let index = self.index(of: id), self.connections[index].state == .starting else { return [] }
        guard supportsExtendedConnect else {
            self.connections.remove(at: index)
            var actions: [Action] = [.closeConnection(id)]
            if !self.reportedExtendedConnectUnsupported {
                self.reportedExtendedConnectUnsupported = true
                actions.append(.reportExtendedConnectUnsupported)
            }
            actions += self.failWaitingIfNothingStarting(.extendedConnectUnsupported)
            return actions + self.backOff()
        }
        self.failedAttempts = 0
        self.reportedExtendedConnectUnsupported = false
        self.connections[index].state = .ready(openStreams: 0, maxStreams: self.streamLimit(maxConcurrentStreams))
        if self.isShuttingDown {
            return self.drain(at: index)
        }
        return self.serveWaiting() + self.idleCheck(id)
    }

    /// A later SETTINGS frame changed `SETTINGS_MAX_CONCURRENT_STREAMS`.
    mutating func maxConcurrentStreamsChanged(_ id: ConnectionID, to value: Int) -> [Action] {
        guard let index = self.index(of: id), case .ready(let open, _) = self.connections[index].state else { return [] }
        self.connections[index].state = .ready(openStreams: open, maxStreams: self.streamLimit(value))
        return self.serveWaiting()
    }

    /// A stream of the connection ended (any way: closed, reset, or never opened).
    mutating func streamClosed(_ id: ConnectionID) -> [Action] {
        guard let index = self.index(of: id) else { return [] }
        switch self.connections[index].state {
        case .starting:
            return []
        case .ready(let open, let maxStreams):
            self.connections[index].state = .ready(openStreams: max(open - 1, 0), maxStreams: maxStreams)
            return self.serveWaiting() + self.idleCheck(id)
        case .draining(let open):
            if open <= 1 {
                self.connections.remove(at: index)
                return [.closeConnection(id)]
            }
            self.connections[index].state = .draining(openStreams: open - 1)
            return []
        }
    }

    /// The server sent GOAWAY: existing streams finish, new ones go elsewhere, a replacement opens.
    mutating func goAwayReceived(_ id: ConnectionID) -> [Action] {
        guard let index = self.index(of: id) else { return [] }
        return self.drain(at: index) + self.fillUp() + self.openConnectionIfAllFull()
    }

    /// Dialling failed, or the connection closed before its first SETTINGS.
    mutating func connectFailed(_ id: ConnectionID) -> [Action] {
        guard let index = self.index(of: id), self.connections[index].state == .starting else {
            return self.connectionClosed(id)
        }
        self.connections.remove(at: index)
        return self.failWaitingIfNothingStarting(.unreachable) + self.backOff()
    }

    /// An established connection closed (lost, or closed by us). Its streams end on their own.
    mutating func connectionClosed(_ id: ConnectionID) -> [Action] {
        guard let index = self.index(of: id) else { return [] }
        if self.connections[index].state == .starting {
            return self.connectFailed(id)
        }
        self.connections.remove(at: index)
        return self.fillUp() + self.openConnectionIfAllFull()
    }

    /// The idle timer of an extra connection fired.
    mutating func idleTimeoutFired(_ id: ConnectionID) -> [Action] {
        guard let index = self.index(of: id), case .ready(0, _) = self.connections[index].state,
            self.readyConnectionCount > self.configuration.minConnections
        else { return [] }
        self.connections.remove(at: index)
        return [.closeConnection(id)]
    }

    /// The back-off delay passed: dial again if anything needs a connection.
    mutating func backoffElapsed() -> [Action] {
        self.backoffScheduled = false
        if self.isShuttingDown { return [] }
        let actions = self.fillUp() + self.openConnectionIfAllFull()
        if actions.isEmpty, self.failedAttempts > 0 {
            // Nothing waits and no connection is kept warm: probe once so the endpoint can recover.
            return [self.newConnection()]
        }
        return actions
    }

    /// Closes idle connections, drains busy ones, fails waiting requests, opens nothing more.
    mutating func shutdown() -> [Action] {
        guard !self.isShuttingDown else { return [] }
        self.isShuttingDown = true
        var actions: [Action] = []
        if !self.waiting.isEmpty {
            actions.append(.failRequests(self.waiting, .shutdown))
            self.waiting.removeAll()
        }
        for connection in self.connections {
            guard let index = self.index(of: connection.id) else { continue }
            switch connection.state {
            case .starting:
                // Closed once its SETTINGS arrive (or its dial fails).
                continue
            case .ready, .draining:
                actions += self.drain(at: index)
            }
        }
        return actions
    }

    // MARK: Private

    private var readyConnectionCount: Int {
        self.connections.count { if case .ready = $0.state { true } else { false } }
    }

    /// Connections that are or will be able to take streams (not draining).
    private var liveConnectionCount: Int {
        self.connections.count { if case .draining = $0.state { false } else { true } }
    }

    private func index(of id: ConnectionID) -> Int? {
        self.connections.firstIndex { $0.id == id }
    }

    private func streamLimit(_ serverLimit: Int?) -> Int {
        min(self.configuration.maxStreamsPerConnection, serverLimit ?? Int.max)
    }

    /// Takes a free stream slot on the oldest ready connection with one (older connections fill
    /// first, so extra ones empty out and hit their idle timeout).
    private mutating func reserveStream(for request: RequestID) -> Action? {
        for index in self.connections.indices {
            guard case .ready(let open, let maxStreams) = self.connections[index].state, open < maxStreams else { continue }
            self.connections[index].state = .ready(openStreams: open + 1, maxStreams: maxStreams)
            return .openStream(request, on: self.connections[index].id)
        }
        return nil
    }

    private mutating func serveWaiting() -> [Action] {
        var actions: [Action] = []
        while let request = self.waiting.first, let action = self.reserveStream(for: request) {
            self.waiting.removeFirst()
            actions.append(action)
        }
        return actions
    }

    /// A connection that just became empty: extra connections start their idle timer.
    private func idleCheck(_ id: ConnectionID) -> [Action] {
        guard let index = self.index(of: id), case .ready(0, _) = self.connections[index].state,
            self.readyConnectionCount > self.configuration.minConnections
        else { return [] }
        return [.scheduleIdleTimeout(id)]
    }

    /// A new connection when requests wait, nothing is on its way, and there is room.
    private mutating func openConnectionIfAllFull() -> [Action] {
        guard !self.waiting.isEmpty, !self.isShuttingDown, !self.backoffScheduled,
            !self.connections.contains(where: { $0.state == .starting }),
            self.liveConnectionCount < self.configuration.maxConnections
        else { return [] }
        return [self.newConnection()]
    }

    /// Opens connections until `minConnections` live ones exist (none during back-off or shutdown).
    private mutating func fillUp() -> [Action] {
        guard !self.isShuttingDown, !self.backoffScheduled else { return [] }
        var actions: [Action] = []
        while self.liveConnectionCount < self.configuration.minConnections {
            actions.append(self.newConnection())
        }
        return actions
    }

    private mutating func newConnection() -> Action {
        let id = self.nextConnectionID
        self.nextConnectionID += 1
        self.connections.append((id, .starting))
        return .createConnection(id)
    }

    private mutating func drain(at index: Int) -> [Action] {
        let id = self.connections[index].id
        switch self.connections[index].state {
        case .starting, .ready(0, _), .draining(0):
            self.connections.remove(at: index)
            return [.closeConnection(id)]
        case .ready(let open, _):
            self.connections[index].state = .draining(openStreams: open)
            return []
        case .draining:
            return []
        }
    }

    /// Waiting requests fail when no connection can serve them soon; they then try another endpoint.
    private mutating func failWaitingIfNothingStarting(_ failure: Failure) -> [Action] {
        guard !self.waiting.isEmpty, !self.connections.contains(where: { $0.state == .starting }) else { return [] }
        let failed = self.waiting
        self.waiting.removeAll()
        return [.failRequests(failed, failure)]
    }

    private mutating func backOff() -> [Action] {
        self.failedAttempts += 1
        guard !self.backoffScheduled, !self.isShuttingDown else { return [] }
        self.backoffScheduled = true
        return [.scheduleBackoff(Self.backoff(afterFailures: self.failedAttempts))]
    }

    /// 100 ms doubling per failure in a row, capped at 30 s.
    static func backoff(afterFailures failures: Int) -> TimeAmount {
        let exponent = min(max(failures - 1, 0), 9)
        return min(.milliseconds(100 << exponent), .seconds(30))
    }
}
