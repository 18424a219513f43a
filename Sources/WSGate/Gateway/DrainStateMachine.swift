/// Where the gateway stands between serving and exiting (``Gateway/phase``).
enum GatewayPhase: String, Sendable {
    /// Accepting connections (also before ``Gateway/start()`` and after a failed start).
    case serving
    /// A graceful shutdown began: the listeners are closed, live sessions run on for `shutdown.grace`.
    /// The admin listener still answers; readiness must report "not ready" from here on.
    case draining
    /// Close 1001 was sent to both legs of every session left; waiting up to `shutdown.timeout` for
    /// the close handshakes.
    case closing
    /// The drain is over and the admin listener closed; the process exits.
    case stopped
}

/// The steps of a graceful shutdown, as a value: what to do next given what happened, without I/O.
///
/// stop accepting → wait up to `grace` for sessions to end on their own → close the rest with 1001
/// → wait up to `timeout` for their close handshakes → finish. A wait that ends because the last
/// session ended skips what would follow it, so an idle gateway stops at once.
struct DrainStateMachine {
    /// The close sent to both legs of every session left after the grace period.
    static let shutdownStatus = WebSocketCloseStatus(code: .goingAway, reason: "gateway shutting down")

    enum Action: Equatable {
        /// Close the WebSocket listeners (the admin listener stays), then wait up to `wait` for the
        /// live sessions to end on their own, and report with ``DrainStateMachine/waitEnded(allSessionsEnded:)``.
        case stopAccepting(wait: Duration)
        /// Send `status` to both legs of every session left, then wait up to `wait` for the close
        /// handshakes, and report with ``DrainStateMachine/waitEnded(allSessionsEnded:)``.
        case closeSessions(WebSocketCloseStatus, wait: Duration)
        /// The drain is over: close the admin listener. `sessionsLeft`: some sessions did not finish
        /// their close handshake in time (they end when the process exits).
        case finish(sessionsLeft: Bool)
        /// Nothing to do: a shutdown was already under way, or no wait was pending.
        case none
    }

    private enum State {
        case serving
        case draining(ShutdownConfiguration)
        case closing
        case stopped
    }

    private var state = State.serving

    var phase: GatewayPhase {
        switch self.state {
        case .serving: return .serving
        case .draining: return .draining
        case .closing: return .closing
        case .stopped: return .stopped
        }
    }

    /// A graceful shutdown was asked for (SIGTERM, SIGINT); a repeated request changes nothing.
    mutating func shutdownRequested(_ configuration: ShutdownConfiguration) -> Action {
        switch self.state {
        case .serving:
            self.state = .draining(configuration)
            return .stopAccepting(wait: configuration.grace)
        case .draining, .closing, .stopped:
            return .none
        }
    }

    /// The wait asked for by the last action is over: `allSessionsEnded` when the last session
    /// ended, `false` when the time ran out first.
    mutating func waitEnded(allSessionsEnded: Bool) -> Action {
        switch self.state {
        case .draining(let configuration):
            guard !allSessionsEnded else {
                self.state = .stopped
                return .finish(sessionsLeft: false)
            }
            self.state = .closing
            return .closeSessions(Self.shutdownStatus, wait: configuration.timeout)
        case .closing:
            self.state = .stopped
            return .finish(sessionsLeft: !allSessionsEnded)
        case .serving, .stopped:
            return .none
        }
    }
}
