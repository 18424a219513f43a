import ArgumentParser
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
import WSGate

#if canImport(Glibc)
import Glibc
#endif

/// `wsgate run`: serve the config until SIGTERM or SIGINT, then drain and exit 0.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Start the gateway (the default command).")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = self.options.logLevel
            return handler
        }
        let logger = Logger(label: "wsgate")
        let gateway: Gateway
        do {
            // Reads the certificate and key files: an unusable one stops us here, before listening.
            gateway = try Gateway(
                configurationFile: self.options.config,
                group: MultiThreadedEventLoopGroup.singleton,
                logger: logger
            )
        } catch {
            logger.critical("invalid configuration\n\(error)")
            throw ExitCode.failure
        }
        let secondSignal = await Self.exitOnSecondTermination(logger: logger)
        defer { secondSignal.cancel() }
        let services = ServiceGroup(
            services: [GatewayService(gateway: gateway)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await services.run()
    }

    /// The first SIGTERM or SIGINT starts the graceful shutdown (the `ServiceGroup` handles it);
    /// the second one, of either kind, ends the process at once with 128 + the signal number.
    private static func exitOnSecondTermination(logger: Logger) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        return Task {
            var seen = 0
            for await signal in signals {
                seen += 1
                guard seen > 1 else { continue }
                logger.warning("second termination signal: exiting at once", metadata: ["wsgate.signal": "\(signal)"])
                Glibc.exit(128 + signal.rawValue)
            }
        }
    }
}
