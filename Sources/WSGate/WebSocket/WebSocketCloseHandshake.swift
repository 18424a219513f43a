/// The close handshake of one leg (RFC 6455 section 7), as a value type.
///
/// Each leg closes on its own: when a peer's close arrives the endpoint answers at once (a close
/// handshake must not depend on the other leg being responsive), and when the session asks a leg to
/// close, the endpoint sends a close frame and waits a bounded time for the answer.
struct WebSocketCloseHandshake {
    enum State: Equatable {
        case open
        /// We sent a close frame and wait for the peer's.
        case closeSent
        /// Both close frames have been exchanged (or the leg failed): nothing more is sent or read.
        case closed
    }

    enum Action: Equatable {
        /// Send a close frame with this status, then close the connection (`thenClose`) or wait for
        /// the peer's answer.
        case sendClose(WebSocketCloseStatus, thenClose: Bool)
        /// The handshake is complete: close the connection.
        case closeConnection
        case none
    }

    private(set) var state: State = .open

    /// The peer's close frame arrived.
    mutating func peerClosed(_ status: WebSocketCloseStatus) -> Action {
        switch self.state {
        case .open:
            self.state = .closed
            return .sendClose(status, thenClose: true)
        case .closeSent:
            self.state = .closed
            return .closeConnection
        case .closed:
            return .none
        }
    }

    /// The gateway wants this leg closed with `status`.
    mutating func close(_ status: WebSocketCloseStatus) -> Action {
        switch self.state {
        case .open:
            self.state = .closeSent
            return .sendClose(status, thenClose: false)
        case .closeSent, .closed:
            return .none
        }
    }

    /// The peer broke the protocol: send our close with the error's code and drop the connection.
    /// The transitions are those of a peer's close: the leg is done either way.
    mutating func fail(_ status: WebSocketCloseStatus) -> Action {
        self.peerClosed(status)
    }
}
