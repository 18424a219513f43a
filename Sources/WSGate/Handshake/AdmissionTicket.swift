/// One accepted connection's hold on the ``ConnectionLimiter``: what it was granted at accept, its
/// pending-handshake slot and its route slot, each given back exactly once. Confined to the
/// connection's EventLoop.
final class AdmissionTicket {
    /// What the connection was granted at accept (never ``ConnectionAdmission/Acceptance/shed``:
    /// those are closed without a ticket).
    let acceptance: ConnectionAdmission.Acceptance
    private let ip: String?
    private let limiter: ConnectionLimiter
    private var handshakePending = true
    private var route: String?
    private var released = false

    init(acceptance: ConnectionAdmission.Acceptance, ip: String?, limiter: ConnectionLimiter) {
        self.acceptance = acceptance
        self.ip = ip
        self.limiter = limiter
    }

    /// Gives back the pending-handshake slot: the connection was answered (101 or an error).
    func finishHandshake() {
        guard self.handshakePending else { return }
        self.handshakePending = false
        self.limiter.handshakeFinished()
    }

    /// Takes a slot of `route`, or says which limit refuses the connection: the one it hit at accept,
    /// or the route's own.
    func admit(route: String, routeLimit: Int) -> ConnectionAdmission.Refusal? {
        if case .refused(let refusal) = self.acceptance { return refusal }
        if let refusal = self.limiter.admit(route: route, routeLimit: routeLimit) { return refusal }
        self.route = route
        return nil
    }

    /// Gives back everything still held; the connection closed.
    func release() {
        self.finishHandshake()
        guard !self.released else { return }
        self.released = true
        if let route { self.limiter.release(route: route) }
        if case .admitted = self.acceptance { self.limiter.release(ip: self.ip) }
    }
}

@available(*, unavailable)
extension AdmissionTicket: Sendable {}
