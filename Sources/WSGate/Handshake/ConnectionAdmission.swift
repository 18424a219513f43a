/// The connection counts the connection limits are checked against, as a value: how many
/// connections the gateway and each client IP address hold, how many have not finished their
/// handshake, and how many each route serves.
///
/// A connection is counted from accept, before it has sent a byte (``accept(ip:limits:)``): a client
/// that opens sockets and stays silent takes the same slots as one that talks. One whose handshake is
/// not finished also holds a pending-handshake slot, given back by ``handshakeFinished()``; the
/// route's slot is taken once the route is known (``admit(route:routeLimit:)``). Everything is given
/// back when the connection closes, whatever happened in between.
///
/// A client's HTTP/2 stream is counted when it opens (``acceptStream(ip:limits:countsAsConnection:)``):
/// its handshake takes a pending-handshake slot as a connection's would, and an RFC 8441 WebSocket
/// counts under the gateway's and its IP's connections, as it would over HTTP/1.1, so neither limit
/// becomes "per connection × `max_concurrent_streams`" on HTTP/2.
struct ConnectionAdmission: Sendable, Equatable {
    /// The limit a refused connection hit.
    enum Refusal: Sendable, Equatable {
        case global
        case route
        case perIP
        /// `max_pending_handshakes`, for an HTTP/2 stream (a connection over it is shed instead).
        case pendingHandshakes

        /// The name it is counted under (``LimitName``).
        var limitName: String {
            switch self {
            case .global: return LimitName.globalMaxConnections
            case .route: return LimitName.maxConnections
            case .perIP: return LimitName.maxConnectionsPerIP
            case .pendingHandshakes: return LimitName.maxPendingHandshakes
            }
        }
    }

    /// What becomes of a connection just accepted.
    enum Acceptance: Sendable, Equatable {
        /// Counted; it may go on with its handshake.
        case admitted
        /// Over `max_connections` or `max_connections_per_ip`: its request head is read (within a
        /// short time) only to answer 503 with `Retry-After` on the right route.
        case refused(Refusal)
        /// Over `max_pending_handshakes`: closed at once, nothing read or answered.
        case shed
    }

    private(set) var total = 0
    private(set) var pendingHandshakes = 0
    private(set) var byRoute: [String: Int] = [:]
    private(set) var byIP: [String: Int] = [:]

    /// Counts a connection just accepted from `ip`. Limits of 0 are off; checked in the order
    /// pending handshakes, gateway, IP.
    mutating func accept(ip: String?, limits: GatewayLimits) -> Acceptance {
        if limits.maxPendingHandshakes > 0, self.pendingHandshakes >= limits.maxPendingHandshakes { return .shed }
        self.pendingHandshakes += 1
        if limits.maxConnections > 0, self.total >= limits.maxConnections { return .refused(.global) }
        if let ip, limits.maxConnectionsPerIP > 0, self.byIP[ip, default: 0] >= limits.maxConnectionsPerIP {
            return .refused(.perIP)
        }
        self.total += 1
        if let ip { self.byIP[ip, default: 0] += 1 }
        return .admitted
    }

    /// Counts a client's HTTP/2 stream just opened on a connection from `ip`: a pending-handshake
    /// slot (over the limit the stream is refused, answered 503, rather than shed), and, when it
    /// `countsAsConnection` (a WebSocket), the gateway's and the IP's connection slots as ``accept(ip:limits:)``.
    mutating func acceptStream(ip: String?, limits: GatewayLimits, countsAsConnection: Bool) -> Acceptance {
        guard countsAsConnection else {
            if limits.maxPendingHandshakes > 0, self.pendingHandshakes >= limits.maxPendingHandshakes {
                return .refused(.pendingHandshakes)
            }
            self.pendingHandshakes += 1
            return .admitted
        }
        let acceptance = self.accept(ip: ip, limits: limits)
        return acceptance == .shed ? .refused(.pendingHandshakes) : acceptance
    }

    /// The accepted connection's handshake is over (answered 101, refused, or given up).
    mutating func handshakeFinished() {
        self.pendingHandshakes -= 1
    }

    /// Takes a slot of `route` for an admitted connection, or says that the route is full.
    mutating func admit(route: String, routeLimit: Int) -> Refusal? {
        if routeLimit > 0, self.byRoute[route, default: 0] >= routeLimit { return .route }
        self.byRoute[route, default: 0] += 1
        return nil
    }

    /// Gives back the route slot ``admit(route:routeLimit:)`` took.
    mutating func release(route: String) {
        Self.decrement(&self.byRoute, route)
    }

    /// Gives back the slots an ``Acceptance/admitted`` connection took at accept.
    mutating func release(ip: String?) {
        self.total -= 1
        if let ip { Self.decrement(&self.byIP, ip) }
    }

    private static func decrement(_ counts: inout [String: Int], _ key: String) {
        let value = counts[key, default: 0] - 1
        counts[key] = value > 0 ? value : nil
    }
}
