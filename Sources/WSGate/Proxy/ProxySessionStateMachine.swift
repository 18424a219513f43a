/// How the two legs of one proxy session end, as a value type: what to tell the other leg when one
/// leg closes or fails, and who closed first (for the access log and the close-code counters).
struct ProxySessionStateMachine {
    enum Leg: Hashable, Sendable {
        case client
        case upstream

        /// The leg across the session from this one.
        var other: Leg { self == .client ? .upstream : .client }
    }

    enum Action: Equatable {
        /// Close `leg` with `status`.
        case close(Leg, WebSocketCloseStatus)
        case none
    }

    /// How a leg ended, as its endpoint reported it.
    enum LegEnd: Equatable {
        /// The peer's close frame (it started or answered the close handshake).
        case close(WebSocketCloseStatus)
        /// The leg failed: the peer vanished, or the gateway failed it.
        case failed(WebSocketFailure)
    }

    /// Who ended the session and how (the first leg to end, or the gateway).
    struct Ending: Equatable {
        var side: SessionSide
        var status: WebSocketCloseStatus
        /// The code counted for the session: the status's, else 1005 for a close frame without one
        /// and 1006 for a connection lost without a close frame (RFC 6455 section 7.1.5).
        var closeCode: Int
    }

    private(set) var clientOpen = true
    private(set) var upstreamOpen = true
    /// Who ended the session, and with what status, once known.
    private(set) var ending: Ending?

    var isFinished: Bool { !self.clientOpen && !self.upstreamOpen }

    /// A leg reported how it ended.
    mutating func legEnded(_ leg: Leg, _ end: LegEnd) -> Action {
        guard self.isOpen(leg) else { return .none }
        self.setOpen(leg, false)
        let peer: SessionSide = leg == .client ? .client : .upstream
        let relayed: WebSocketCloseStatus
        let ending: Ending
        switch end {
        case .close(let status):
            relayed = status
            ending = Ending(side: peer, status: status, closeCode: status.code.map { Int($0.rawValue) } ?? 1005)
        case .failed(let failure):
            relayed = Self.statusRelayedAfterFailure(of: leg, failure)
            // A lost connection is the peer's doing; any other failure is one the gateway found
            // (a violation, a limit, a silent peer).
            let side: SessionSide = if case .connectionLost = failure { peer } else { .gateway }
            ending = Ending(side: side, status: failure.status, closeCode: failure.code.map { Int($0.rawValue) } ?? 1006)
        }
        if self.ending == nil {
            self.ending = ending
        }
        guard self.isOpen(leg.other) else { return .none }
        self.setOpen(leg.other, false)
        return .close(leg.other, relayed)
    }

    /// The gateway ends the session (idle timeout, a limit, shutdown): each open leg gets its status.
    mutating func gatewayClose(client: WebSocketCloseStatus, upstream: WebSocketCloseStatus) -> [Action] {
        if self.ending == nil {
            self.ending = Ending(side: .gateway, status: client, closeCode: client.code.map { Int($0.rawValue) } ?? 1005)
        }
        var actions: [Action] = []
        for (leg, status) in [(Leg.client, client), (.upstream, upstream)] where self.isOpen(leg) {
            self.setOpen(leg, false)
            actions.append(.close(leg, status))
        }
        return actions
    }

    /// What the other leg hears when `leg` failed: 1014 toward the client when the upstream broke,
    /// 1001 toward the upstream when the client went away or broke the protocol.
    static func statusRelayedAfterFailure(of leg: Leg, _ failure: WebSocketFailure) -> WebSocketCloseStatus {
        let what: String
        if case .connectionLost = failure {
            what = "connection lost"
        } else {
            what = "protocol error (\(failure))"
        }
        switch leg {
        case .upstream: return WebSocketCloseStatus(code: .badGateway, reason: "upstream \(what)")
        case .client: return WebSocketCloseStatus(code: .goingAway, reason: "client \(what)")
        }
    }

    private func isOpen(_ leg: Leg) -> Bool {
        leg == .client ? self.clientOpen : self.upstreamOpen
    }

    private mutating func setOpen(_ leg: Leg, _ open: Bool) {
        if leg == .client { self.clientOpen = open } else { self.upstreamOpen = open }
    }
}
