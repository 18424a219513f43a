/// The connection counts the connection limits are checked against, as a value: how many
/// connections the gateway, each route and each client IP address hold now.
///
/// A connection is admitted once its route is known (before the upstream is dialed) and released
/// when the client connection closes, whatever happened in between.
struct ConnectionAdmission: Sendable, Equatable {
    /// The limit a refused connection hit.
    enum Refusal: Sendable, Equatable {
        case global
        case route
        case perIP

        /// The name it is counted under (``LimitName``).
        var limitName: String {
            switch self {
            case .global: return LimitName.globalMaxConnections
            case .route: return LimitName.maxConnections
            case .perIP: return LimitName.maxConnectionsPerIP
            }
        }
    }

    private(set) var total = 0
    private(set) var byRoute: [String: Int] = [:]
    private(set) var byIP: [String: Int] = [:]

    /// Takes a slot for a connection of `route` from `ip`, or says which limit refuses it (limits of
    /// 0 are off). Checked in the order gateway, route, IP.
    mutating func admit(route: String, ip: String?, routeLimit: Int, limits: GatewayLimits) -> Refusal? {
        if limits.maxConnections > 0, self.total >= limits.maxConnections { return .global }
        if routeLimit > 0, self.byRoute[route, default: 0] >= routeLimit { return .route }
        if let ip, limits.maxConnectionsPerIP > 0, self.byIP[ip, default: 0] >= limits.maxConnectionsPerIP { return .perIP }
        self.total += 1
        self.byRoute[route, default: 0] += 1
        if let ip { self.byIP[ip, default: 0] += 1 }
        return nil
    }

    /// Gives back the slot `admit` took.
    mutating func release(route: String, ip: String?) {
        self.total -= 1
        Self.decrement(&self.byRoute, route)
        if let ip { Self.decrement(&self.byIP, ip) }
    }

    private static func decrement(_ counts: inout [String: Int], _ key: String) {
        let value = counts[key, default: 0] - 1
        counts[key] = value > 0 ? value : nil
    }
}
