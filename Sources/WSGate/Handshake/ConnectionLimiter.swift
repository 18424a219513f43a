import NIOConcurrencyHelpers

/// The gateway's ``ConnectionAdmission``, shared by every EventLoop behind a lock taken a few times
/// per connection (accept, route, handshake end, close), never per frame. It outlives configuration
/// reloads: the counts are of live connections, the limits those of the configuration a connection is
/// served with.
final class ConnectionLimiter: Sendable {
    private let admission = NIOLockedValueBox(ConnectionAdmission())

    func accept(ip: String?, limits: GatewayLimits) -> ConnectionAdmission.Acceptance {
        self.admission.withLockedValue { $0.accept(ip: ip, limits: limits) }
    }

    func acceptStream(ip: String?, limits: GatewayLimits, countsAsConnection: Bool) -> ConnectionAdmission.Acceptance {
        self.admission.withLockedValue { $0.acceptStream(ip: ip, limits: limits, countsAsConnection: countsAsConnection) }
    }

    func handshakeFinished() {
        self.admission.withLockedValue { $0.handshakeFinished() }
    }

    func admit(route: String, routeLimit: Int) -> ConnectionAdmission.Refusal? {
        self.admission.withLockedValue { $0.admit(route: route, routeLimit: routeLimit) }
    }

    func release(route: String) {
        self.admission.withLockedValue { $0.release(route: route) }
    }

    func release(ip: String?) {
        self.admission.withLockedValue { $0.release(ip: ip) }
    }

    /// Connections counted now (gateway-wide, from accept).
    var connections: Int {
        self.admission.withLockedValue { $0.total }
    }

    /// Connections whose handshake is not finished.
    var pendingHandshakes: Int {
        self.admission.withLockedValue { $0.pendingHandshakes }
    }
}
