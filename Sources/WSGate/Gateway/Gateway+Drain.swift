import Logging
import NIOConcurrencyHelpers
import NIOCore

extension Gateway {
    /// Where the gateway stands between serving and exiting; readiness probes should report "not
    /// ready" from ``GatewayPhase/draining`` on.
    var phase: GatewayPhase {
        self.state.withLockedValue { $0.drain.phase }
    }

    /// Whether a graceful shutdown has begun (``phase`` is past ``GatewayPhase/serving``).
    var isDraining: Bool {
        self.phase != .serving
    }

    /// Shuts the gateway down gracefully, as ``DrainStateMachine`` orders with the `shutdown`
    /// section of the configuration being served:
    ///
    /// 1. closes the WebSocket listeners (the admin listener keeps answering, readiness included),
    ///    sends GOAWAY on every client HTTP/2 connection (no new streams on it), and stops reloading;
    ///    HTTP proxy connections between requests close, the others after the
    ///    exchange in progress (``HTTPProxyRegistry/drain()``);
    /// 2. lets live sessions and HTTP exchanges run for `shutdown.grace`, so messages and requests
    ///    in flight arrive;
    /// 3. closes the HTTP connections left, sends close 1001 "gateway shutting down" toward every
    ///    client and upstream of the sessions left, and waits up to `shutdown.timeout` for their
    ///    close handshakes;
    /// 4. closes the admin listener.
    ///
    /// Each wait ends early when the last session and HTTP connection end. Returns when the drain is over; a second
    /// call while one runs returns at once. Cancelling the calling task cuts the waits short.
    func drain() async {
        let configuration = self.activeConfiguration.configuration.shutdown
        var action = self.state.withLockedValue { $0.drain.shutdownRequested(configuration) }
        while true {
            switch action {
            case .none:
                return
            case .stopAccepting(let wait):
                self.state.withLockedValue { $0.watcher?.cancel() }
                // A reload already under way may still bind listeners: let it finish first (later
                // ones see the phase and refuse).
                _ = await self.state.withLockedValue { $0.reloads }?.value
                try? await self.closeListeners()
                try? await self.quiesceHTTP2Connections()
                _ = try? await self.onEachHTTPRegistry { $0.drain() }
                self.logger.info(
                    "draining: listeners closed, live sessions continue for the grace period",
                    metadata: ["wsgate.shutdown.grace": "\(wait)"]
                )
                let ended = await self.allSessionsEnded(within: wait)
                action = self.state.withLockedValue { $0.drain.waitEnded(allSessionsEnded: ended) }
            case .closeSessions(let status, let wait):
                let http = (try? await self.onEachHTTPRegistry { $0.closeAll() })?.reduce(0, +) ?? 0
                let count = (try? await self.closeAllSessions(status)) ?? 0
                self.logger.info(
                    "draining: close sent to every session",
                    metadata: [
                        "wsgate.sessions": "\(count)", "wsgate.http_connections": "\(http)", "wsgate.close": "\(status)",
                        "wsgate.shutdown.timeout": "\(wait)",
                    ]
                )
                let ended = await self.allSessionsEnded(within: wait)
                action = self.state.withLockedValue { $0.drain.waitEnded(allSessionsEnded: ended) }
            case .finish(let sessionsLeft):
                if sessionsLeft {
                    self.logger.warning("drained with sessions still open after shutdown.timeout; they end with the process")
                } else {
                    self.logger.info("drained: no session left")
                }
                try? await self.shutdown()
                return
            }
        }
    }

    /// Runs `body` on each loop's HTTP proxy connections.
    private func onEachHTTPRegistry<Value: Sendable>(_ body: @escaping @Sendable (HTTPProxyRegistry) -> Value) async throws
        -> [Value]
    {
        let services = self.services
        return try await self.onEachEventLoop { body(GatewayLoopState.current(for: services).httpProxies) }
    }

    /// Whether every event loop's live sessions and HTTP proxy connections ended within `limit`
    /// (`false` when the time ran out or the calling task was cancelled first). Awaits the
    /// registries: no polling.
    func allSessionsEnded(within limit: Duration) async -> Bool {
        let loops = Array(self.group.makeIterator())
        guard let first = loops.first else { return true }
        let services = self.services
        let emptied = loops.map { loop in
            loop.flatSubmit {
                let state = GatewayLoopState.current(for: services)
                return state.sessions.whenEmpty(on: loop).and(state.httpProxies.whenEmpty(on: loop)).map { _ in }
            }
        }
        let outcome = first.makePromise(of: Bool.self)
        let timer = first.scheduleTask(in: TimeAmount(limit)) { outcome.succeed(false) }
        EventLoopFuture.andAllSucceed(emptied, on: first).whenComplete { _ in
            timer.cancel()
            outcome.succeed(true)  // ignored when the timer came first
        }
        return await withTaskCancellationHandler {
            (try? await outcome.futureResult.get()) ?? false
        } onCancel: {
            first.execute { outcome.succeed(false) }
        }
    }
}
