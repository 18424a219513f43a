/// The built-in `echo` upstream as a session leg: every data event the session sends it comes straight
/// back as what the upstream read, and a close it is sent ends it at once (the client leg's endpoint
/// runs the close handshake with the client).
///
/// It writes into the client leg, so it is as writable as that leg and queues nothing of its own.
final class EchoLeg: SessionLeg {
    private let session: ProxySession
    private let client: any SessionLeg
    private var ended = false

    /// - Parameter client: the session's client leg, which the echoed events are written to.
    init(session: ProxySession, client: any SessionLeg) {
        self.session = session
        self.client = client
    }

    var isWritable: Bool { self.client.isWritable }

    var bufferedBytes: Int { 0 }

    func send(_ event: WebSocketFrameEvent) {
        guard !self.ended else { return }
        switch event {
        case .frameHead, .payload:
            self.session.received(event, from: .upstream)
        case .close, .failed:
            self.ended = true
            self.session.inactive(.upstream)
        }
    }

    /// The echo "read" everything it was sent: the session flushes the client leg.
    func flush() {
        guard !self.ended else { return }
        self.session.readComplete(from: .upstream)
    }

    /// Resumes the client, whose reads wait on this leg's writability; nothing once ended: the client
    /// may be mid-read then (its close is being relayed here), and a read now would re-enter it.
    func resumeReading() {
        guard !self.ended else { return }
        self.client.resumeReading()
    }
}

@available(*, unavailable)
extension EchoLeg: Sendable {}
