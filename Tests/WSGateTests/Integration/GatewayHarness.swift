import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// A real gateway on loopback ports chosen by the kernel, configured from YAML text.
final class GatewayHarness {
    let gateway: Gateway
    let port: Int
    let adminPort: Int

    private init(gateway: Gateway) throws {
        self.gateway = gateway
        let addresses = gateway.listenerAddresses
        guard let port = addresses["public"]?.port, let adminPort = addresses[Gateway.adminListenerName]?.port else {
            throw HarnessError.notListening
        }
        self.port = port
        self.adminPort = adminPort
    }

    enum HarnessError: Error {
        case notListening
    }

    /// Starts a gateway with one listener named `public` on 127.0.0.1:0 and the given upstreams,
    /// routes and defaults (YAML text, indented as top-level keys).
    /// `tls`, when given, is the public listener's `tls` value (YAML flow style, one line).
    /// `admin`, when given, is more of the admin section (YAML flow-style entries, e.g. `token: abc`).
    /// `group` defaults to the shared singleton; `logs`, when given, records the gateway's log lines.
    static func start(
        _ yaml: String,
        tls: String? = nil,
        admin: String? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logs: CapturedLogs? = nil
    ) async throws -> GatewayHarness {
        let text = """
            listeners:
              - name: public
                address: 127.0.0.1:0
            \(tls.map { "    tls: \($0)" } ?? "")
            admin: {address: 127.0.0.1:0\(admin.map { ", " + $0 } ?? "")}
            \(yaml)
            """
        let configuration = try GatewayConfiguration.parse(yaml: text, file: "test.yaml")
        var logger = logs.map { logs in Logger(label: "wsgate-test") { _ in logs.handler } } ?? Logger(label: "wsgate-test")
        logger.logLevel = .warning
        let gateway = try Gateway(configuration: configuration, group: group, logger: logger)
        try await gateway.start()
        return try GatewayHarness(gateway: gateway)
    }

    /// Starts a gateway from a whole configuration file's text; its listener `public` is `port`.
    static func start(file text: String, name: String) async throws -> GatewayHarness {
        let configuration = try GatewayConfiguration.parse(yaml: text, file: name)
        var logger = Logger(label: "wsgate-test")
        logger.logLevel = .warning
        let gateway = try Gateway(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        try await gateway.start()
        return try GatewayHarness(gateway: gateway)
    }

    func stop() async {
        try? await self.gateway.shutdown()
    }
}

/// Log lines kept for assertions (`level: message`).
final class CapturedLogs: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { self.lines.withLockedValue { $0 } }

    var handler: some LogHandler { Handler(logs: self) }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            self.logs.lines.withLockedValue { $0.append("\(event.level): \(event.message)") }
        }
    }
}
