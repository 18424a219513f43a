/// Which side of a proxied WebSocket session something came from.
public enum SessionSide: String, Sendable, Hashable {
    case client
    case upstream
    /// The gateway itself (a protocol violation it detected, a timeout, a shutdown).
    case gateway
}

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

    private(set) var clientOpen = true
    private(set) var upstreamOpen = true
    /// Who ended the session, and with what status, once known.
    private(set) var ending: (side: SessionSide, status: WebSocketCloseStatus)?

    var isFinished: Bool { !self.clientOpen && !self.upstreamOpen }

    /// A leg reported how it ended (`.close` or `.failed`).
    mutating func legEnded(_ leg: Leg, _ event: WebSocketFrameEvent) -> Action {
        guard self.isOpen(leg) else { return .none }
        self.setOpen(leg, false)
        let relayed: WebSocketCloseStatus
        let side: SessionSide
        switch event {
        case .close(let status):
            side = leg == .client ? .client : .upstream
            relayed = status
        case .failed(let status):
            // A failure with a code is a violation the gateway caught; without one, the peer vanished.
            side = status.code == nil ? (leg == .client ? .client : .upstream) : .gateway
            relayed = Self.statusRelayedAfterFailure(of: leg, status)
        case .frameHead, .payload:
            preconditionFailure("legEnded called with a data event")
        }
        if self.ending == nil {
            self.ending = (side, event.closeStatus ?? relayed)
        }
        guard self.isOpen(leg.other) else { return .none }
        self.setOpen(leg.other, false)
        return .close(leg.other, relayed)
    }

    /// The gateway ends the session (idle timeout, a limit, shutdown): each open leg gets its status.
    mutating func gatewayClose(client: WebSocketCloseStatus, upstream: WebSocketCloseStatus) -> [Action] {
        if self.ending == nil {
            self.ending = (.gateway, client)
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
    static func statusRelayedAfterFailure(of leg: Leg, _ status: WebSocketCloseStatus) -> WebSocketCloseStatus {
        switch leg {
        case .upstream:
            let what = status.code == nil ? "upstream connection lost" : "upstream protocol error (\(status))"
            return WebSocketCloseStatus(code: .badGateway, reason: what)
        case .client:
            let what = status.code == nil ? "client connection lost" : "client protocol error (\(status))"
            return WebSocketCloseStatus(code: .goingAway, reason: what)
        }
    }

    private func isOpen(_ leg: Leg) -> Bool {
        leg == .client ? self.clientOpen : self.upstreamOpen
    }

    private mutating func setOpen(_ leg: Leg, _ open: Bool) {
        if leg == .client { self.clientOpen = open } else { self.upstreamOpen = open }
    }
}

extension WebSocketFrameEvent {
    /// The status of a `.close` or `.failed` event.
    var closeStatus: WebSocketCloseStatus? {
        switch self {
        case .close(let status), .failed(let status): return status
        case .frameHead, .payload: return nil
        }
    }
}
