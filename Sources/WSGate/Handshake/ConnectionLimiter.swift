import NIOConcurrencyHelpers

/// The gateway's ``ConnectionAdmission``, shared by every EventLoop behind a lock that is taken twice
/// per connection (admit, release), never per frame. It outlives configuration reloads: the counts are
/// of live connections, the limits those of the configuration a handshake is served with.
final class ConnectionLimiter: Sendable {
    private let admission = NIOLockedValueBox(ConnectionAdmission())

    func admit(route: String, ip: String?, routeLimit: Int, limits: GatewayLimits) -> ConnectionAdmission.Refusal? {
        self.admission.withLockedValue { $0.admit(route: route, ip: ip, routeLimit: routeLimit, limits: limits) }
    }

    func release(route: String, ip: String?) {
        self.admission.withLockedValue { $0.release(route: route, ip: ip) }
    }

    /// Connections admitted now (gateway-wide).
    var connections: Int {
        self.admission.withLockedValue { $0.total }
    }
}
