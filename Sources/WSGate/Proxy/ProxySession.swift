import NIOCore

/// One client WebSocket and the upstream leg that serves it, living on one EventLoop.
///
/// The session moves frame events between the legs as they arrive, gates each leg's reads on the
/// other leg's writability, relays the end of one leg to the other, and closes both when idle.
/// The legs are `ProxyLegHandler`s, so the same session runs over a TCP connection or (later) an
/// HTTP/2 stream. For the built-in echo upstream the client leg is its own partner.
final class ProxySession {
    typealias Leg = ProxySessionStateMachine.Leg

    private let eventLoop: any EventLoop
    private let isEcho: Bool
    private var state: ProxySessionStateMachine
    private var client: ProxyLegHandler?
    private var upstream: ProxyLegHandler?
    private var lastDataActivity: NIODeadline
    private var idleTask: Scheduled<Void>?
    private let idleTimeout: TimeAmount?

    init(eventLoop: any EventLoop, isEcho: Bool, idleTimeout: TimeAmount?) {
        self.eventLoop = eventLoop
        self.isEcho = isEcho
        self.state = ProxySessionStateMachine(hasUpstreamLeg: !isEcho)
        self.idleTimeout = idleTimeout
        self.lastDataActivity = .now()
        self.scheduleIdleCheck(at: idleTimeout.map { .now() + $0 })
    }

    func attach(_ handler: ProxyLegHandler, as leg: Leg) {
        switch leg {
        case .client: self.client = handler
        case .upstream: self.upstream = handler
        }
    }

    private func handler(_ leg: Leg) -> ProxyLegHandler? {
        leg == .client ? self.client : self.upstream
    }

    /// The leg that receives what `leg` reads.
    private func partner(of leg: Leg) -> ProxyLegHandler? {
        if self.isEcho { return self.client }
        return leg == .client ? self.upstream : self.client
    }

    // MARK: Events from the legs

    func received(_ event: WebSocketFrameEvent, from leg: Leg) {
        switch event {
        case .frameHead:
            self.lastDataActivity = .now()
            self.partner(of: leg)?.send(event)
        case .payload:
            self.partner(of: leg)?.send(event)
        case .close, .failed:
            self.perform(self.state.legEnded(leg, event))
        }
    }

    func readComplete(from leg: Leg) {
        self.partner(of: leg)?.flush()
    }

    /// Whether `leg` may read: only while what it reads can be written to its partner. Once the session
    /// is ending, reads are free again so that each leg can receive its close handshake answer.
    func mayRead(_ leg: Leg) -> Bool {
        self.state.ending != nil || (self.partner(of: leg)?.isWritable ?? true)
    }

    func writabilityChanged(of leg: Leg, isWritable: Bool) {
        guard isWritable else { return }
        if self.isEcho {
            self.client?.resumeReading()
        } else {
            self.handler(leg == .client ? .upstream : .client)?.resumeReading()
        }
    }

    func inactive(_ leg: Leg) {
        // The endpoint reported how the leg ended before it went inactive; drop the reference so the
        // session and its handlers can be freed.
        switch leg {
        case .client: self.client = nil
        case .upstream: self.upstream = nil
        }
        if self.client == nil, self.upstream == nil {
            self.idleTask?.cancel()
        }
    }

    // MARK: Private

    private func perform(_ action: ProxySessionStateMachine.Action) {
        switch action {
        case .none:
            return
        case .close(let leg, let status):
            guard let handler = self.handler(leg) else { return }
            handler.send(.close(status))
            handler.flush()
            handler.resumeReading()
        }
    }

    private func scheduleIdleCheck(at deadline: NIODeadline?) {
        guard let deadline else { return }
        let session = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.idleTask = self.eventLoop.scheduleTask(deadline: deadline) {
            session.value.checkIdle()
        }
    }

    private func checkIdle() {
        guard let idleTimeout = self.idleTimeout, !self.state.isFinished else { return }
        let expiry = self.lastDataActivity + idleTimeout
        if expiry > .now() {
            self.scheduleIdleCheck(at: expiry)
            return
        }
        for action in self.state.gatewayClose(WebSocketCloseStatus(code: .goingAway, reason: "idle timeout")) {
            self.perform(action)
        }
    }
}

@available(*, unavailable)
extension ProxySession: Sendable {}
