/// One accepted connection's hold on the ``ConnectionLimiter``: what it was granted at accept, its
/// pending-handshake slot and its route slot, each given back exactly once. Confined to the
/// connection's EventLoop.
final class AdmissionTicket {
    /// What the connection was granted at accept (never ``ConnectionAdmission/Acceptance/shed``:
    /// those are closed without a ticket).
    let acceptance: ConnectionAdmission.Acceptance
    private let ip: String?
    private let limiter: ConnectionLimiter
    private var handshakePending: Bool
    private var route: String?
    private var released = false
    /// Whether this ticket holds gateway and IP connection slots (a connection's, a WebSocket
    /// stream's); a request stream's holds only its pending-handshake and route slots.
    private let holdsConnection: Bool

    init(acceptance: ConnectionAdmission.Acceptance, ip: String?, limiter: ConnectionLimiter) {
        self.acceptance = acceptance
        self.ip = ip
        self.limiter = limiter
        self.handshakePending = true
        self.holdsConnection = true
    }

    /// The ticket of one HTTP/2 stream of `connection`, counted under `limits` when it opens
    /// (``ConnectionAdmission/acceptStream(ip:limits:countsAsConnection:)``): a pending-handshake slot,
    /// a route slot once routed, and for a WebSocket (`countsAsConnection`) the gateway's and the
    /// IP's connection slots; all given back when the stream closes. A stream refused there, or of a
    /// connection refused at accept, is answered 503.
    init(streamOf connection: AdmissionTicket, limits: GatewayLimits, countsAsConnection: Bool) {
        let acceptance = connection.limiter.acceptStream(ip: connection.ip, limits: limits, countsAsConnection: countsAsConnection)
        self.acceptance = acceptance
        self.ip = connection.ip
        self.limiter = connection.limiter
        self.handshakePending = acceptance != .refused(.pendingHandshakes)
        self.holdsConnection = countsAsConnection
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
        if self.holdsConnection, case .admitted = self.acceptance { self.limiter.release(ip: self.ip) }
    }
}

@available(*, unavailable)
extension AdmissionTicket: Sendable {}
