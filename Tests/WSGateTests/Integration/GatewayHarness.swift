import Logging
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
    static func start(_ yaml: String, tls: String? = nil, admin: String? = nil) async throws -> GatewayHarness {
        let text = """
            listeners:
              - name: public
                address: 127.0.0.1:0
            \(tls.map { "    tls: \($0)" } ?? "")
            admin: {address: 127.0.0.1:0\(admin.map { ", " + $0 } ?? "")}
            \(yaml)
            """
        let configuration = try GatewayConfiguration.parse(yaml: text, file: "test.yaml")
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
