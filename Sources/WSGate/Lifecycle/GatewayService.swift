import ServiceLifecycle
import UnixSignals

/// The gateway as a swift-service-lifecycle `Service`: runs it until the `ServiceGroup` asks for a
/// graceful shutdown (SIGTERM, SIGINT), then drains it (``Gateway/drain()``) and returns. While it
/// serves, each of `reloadSignals` (SIGHUP) reloads the configuration (``Gateway/reload()``).
///
///     let group = ServiceGroup(
///         services: [GatewayService(gateway: gateway)],
///         gracefulShutdownSignals: [.sigterm, .sigint],
///         logger: logger
///     )
///     try await group.run()
///
/// When the task is cancelled instead (the group gives up), the listeners close at once and `run`
/// returns without waiting for sessions.
public struct GatewayService: Service {
    let gateway: Gateway
    let reloadSignals: [UnixSignal]

    /// - Parameters:
    ///   - gateway: the gateway, not started yet; `run` starts it.
    ///   - reloadSignals: signals that reload the configuration. Default: SIGHUP.
    public init(gateway: Gateway, reloadSignals: [UnixSignal] = [.sighup]) {
        self.gateway = gateway
        self.reloadSignals = reloadSignals
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: self.reloadSignals)
        try await self.gateway.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // A rejected reload is logged and kept in the configuration status; serving goes on.
                for await _ in signals.cancelOnGracefulShutdown() {
                    _ = try? await self.gateway.reload()
                }
            }
            // Returns when the group asks for a graceful shutdown, throws when the task is cancelled.
            try? await gracefulShutdown()
            group.cancelAll()
        }
        guard !Task.isCancelled else {
            try? await self.gateway.shutdown()
            return
        }
        await self.gateway.drain()
    }
}
