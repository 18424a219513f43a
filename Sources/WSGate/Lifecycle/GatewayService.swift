import Logging
import ServiceLifecycle
import UnixSignals

/// The gateway as a swift-service-lifecycle `Service`: runs it until the `ServiceGroup` asks for a
/// graceful shutdown (SIGTERM, SIGINT), then drains it (``Gateway/drain()``) and returns. While it
/// serves, each of `reloadSignals` (SIGHUP) reloads the configuration (``Gateway/reload()``) and each
/// of `reopenSignals` (SIGUSR1) reopens the access log file after a rotation (``Gateway/reopenAccessLog()``).
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
    let reopenSignals: [UnixSignal]

    /// - Parameters:
    ///   - gateway: the gateway, not started yet; `run` starts it.
    ///   - reloadSignals: signals that reload the configuration. Default: SIGHUP.
    ///   - reopenSignals: signals that reopen the access log file. Default: SIGUSR1.
    public init(gateway: Gateway, reloadSignals: [UnixSignal] = [.sighup], reopenSignals: [UnixSignal] = [.sigusr1]) {
        self.gateway = gateway
        self.reloadSignals = reloadSignals
        self.reopenSignals = reopenSignals
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: self.reloadSignals)
        let reopenSignals = await UnixSignalsSequence(trapping: self.reopenSignals)
        try await self.gateway.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // A rejected reload is logged and kept in the configuration status; serving goes on.
                for await _ in signals.cancelOnGracefulShutdown() {
                    _ = try? await self.gateway.reload()
                }
            }
            group.addTask {
                for await _ in reopenSignals.cancelOnGracefulShutdown() {
                    do {
                        try self.gateway.reopenAccessLog()
                    } catch {
                        self.gateway.logger.error("access log not reopened: \(error)")
                    }
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
