import ArgumentParser
import Dispatch
import Logging
import NIOCore
import NIOPosix
import WSGate

#if canImport(Glibc)
import Glibc
#endif

/// `wsgate run`: serve the config until SIGINT or SIGTERM.
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
            let configuration = try GatewayConfiguration.load(contentsOf: self.options.config)
            // Reads the certificate and key files: an unusable one stops us here, before listening.
            gateway = try Gateway(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        } catch {
            logger.critical("invalid configuration\n\(error)")
            throw ExitCode.failure
        }
        try await gateway.start()
        let reload = Self.reloadCertificatesOnHangup(gateway)
        defer { reload.cancel() }
        let reopen = Self.reopenAccessLogOnUser1(gateway, logger: logger)
        defer { reopen.cancel() }
        let signal = await Self.waitForTermination()
        logger.info("stopping", metadata: ["wsgate.signal": "\(signal)"])
        try await gateway.shutdown()
    }

    /// On SIGHUP, re-reads the TLS certificate files (a bad new pair is logged and the old one kept).
    private static func reloadCertificatesOnHangup(_ gateway: Gateway) -> any DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "wsgate.reload"))
        source.setEventHandler { try? gateway.reloadCertificates() }
        source.resume()
        return source
    }

    /// On SIGUSR1, reopens the access log file (after log rotation moved it).
    private static func reopenAccessLogOnUser1(_ gateway: Gateway, logger: Logger) -> any DispatchSourceSignal {
        signal(SIGUSR1, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: DispatchQueue(label: "wsgate.reopen"))
        source.setEventHandler {
            do { try gateway.reopenAccessLog() } catch { logger.error("access log not reopened: \(error)") }
        }
        source.resume()
        return source
    }

    /// Suspends until SIGINT or SIGTERM arrives and returns its number.
    private static func waitForTermination() async -> Int32 {
        await withCheckedContinuation { continuation in
            let queue = DispatchQueue(label: "wsgate.signals")
            let resumed = SignalLatch(continuation: continuation)
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler { resumed.fire(signalNumber) }
                source.resume()
                resumed.keep(source)
            }
        }
    }
}

/// Resumes the waiting task once, from the first signal; keeps the signal sources alive meanwhile.
/// Only touched on its own serial queue.
private final class SignalLatch: @unchecked Sendable {
    private var continuation: CheckedContinuation<Int32, Never>?
    private var sources: [any DispatchSourceSignal] = []

    init(continuation: CheckedContinuation<Int32, Never>) {
        self.continuation = continuation
    }

    func keep(_ source: any DispatchSourceSignal) {
        self.sources.append(source)
    }

    func fire(_ signal: Int32) {
        self.continuation?.resume(returning: signal)
        self.continuation = nil
    }
}
