import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import WSGate

/// Reloading the configuration file in a running gateway (in process): routes, upstreams and
/// listeners change for new connections while live sessions keep running; a bad file changes nothing.
final class ReloadIntegrationTests: XCTestCase {
    private var gateway: ReloadableGateway?
    private var upstream: PeerProcess?

    override func tearDown() async throws {
        await self.gateway?.stop()
        self.upstream?.stop()
    }

    private static func routes(_ name: String, upstream: String, port: Int) -> String {
        """
        upstreams:
          \(upstream):
            endpoints: [127.0.0.1:\(port)]
        routes:
          - name: \(name)
            match: {path: /\(name)}
            upstream: \(upstream)
        """
    }

    func testReloadAddsAndRemovesRoutesWhileASessionOnTheOldRouteKeepsRunning() async throws {
        let upstream = try await PeerProcess.echoUpstream()
        self.upstream = upstream
        let gateway = try await ReloadableGateway.start(
            listeners: .public,
            Self.routes("a", upstream: "one", port: upstream.port)
        )
        self.gateway = gateway
        let session = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/a").requireUpgraded()
        try await session.sendText("before")
        let before = try await session.receiveText()
        XCTAssertEqual(before, "before")

        let text = try gateway.write(listeners: .public, Self.routes("b", upstream: "two", port: upstream.port))
        let (status, body) = try await gateway.postReload()
        XCTAssertEqual(status, 200, body)
        let sha = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(body.hasPrefix("{\"version\":2,\"sha256\":\"\(sha)\",\"loaded_at\":\""), body)
        let configuration = gateway.gateway.configurationStatus
        XCTAssertEqual(configuration.version, 2)
        XCTAssertEqual(configuration.sha256, sha)
        XCTAssertNil(configuration.lastReloadError)

        let removed = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/a")
        XCTAssertEqual(removed.status, 404, "the removed route no longer takes new connections")
        let added = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/b").requireUpgraded()
        try await added.sendText("new route")
        let reply = try await added.receiveText()
        XCTAssertEqual(reply, "new route")

        try await session.sendText("after")
        let after = try await session.receiveText()
        XCTAssertEqual(after, "after", "the session on the removed route and upstream keeps exchanging messages")
        try await session.sendClose(code: 1000)
        let closed = try await session.waitForClose()
        XCTAssertEqual(closed.code, 1000)
        try await added.sendClose(code: 1000)
        _ = try await added.waitForClose()
    }

    func testAnInvalidReloadChangesNothingAndIsReported() async throws {
        let echo = "upstreams:\n  echo: {protocol: echo}\nroutes:\n  - name: a\n    match: {path: /a}\n    upstream: echo\n"
        let gateway = try await ReloadableGateway.start(listeners: .public, echo)
        self.gateway = gateway
        let started = gateway.gateway.configurationStatus
        let session = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/a").requireUpgraded()

        // Line 10 of the file (after the 5 lines of listeners and admin): a misspelt key.
        try gateway.write(listeners: .public, "upstreams:\n  echo: {protocol: echo}\nroutes:\n  - name: b\n    upstrem: echo\n")
        let expected = "\(gateway.file.path):10:5: routes[0].upstrem: unknown key (did you mean 'upstream'?)"
        let (status, body) = try await gateway.postReload()
        XCTAssertEqual(status, 422, body)
        XCTAssertTrue(body.contains(expected), body)
        do {
            try await gateway.gateway.reload()
            XCTFail("an invalid file was loaded")
        } catch {
            XCTAssertTrue("\(error)".contains(expected), "\(error)")
        }
        let failed = gateway.gateway.configurationStatus
        XCTAssertEqual(failed.version, started.version)
        XCTAssertEqual(failed.sha256, started.sha256)
        XCTAssertEqual(failed.loadedAt, started.loadedAt)
        XCTAssertTrue(failed.lastReloadError?.contains(expected) == true, "\(failed)")
        XCTAssertNotNil(failed.lastReloadFailedAt)

        let old = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/a").requireUpgraded()
        try await old.sendText("old route")
        let reply = try await old.receiveText()
        XCTAssertEqual(reply, "old route")
        try await session.sendText("still")
        let still = try await session.receiveText()
        XCTAssertEqual(still, "still")

        // GET is not a reload.
        let get = try await gateway.adminRequest("GET /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(get.status, 405)

        // A fixed file loads and clears the error.
        try gateway.write(listeners: .public, echo)
        try await gateway.gateway.reload()
        XCTAssertEqual(gateway.gateway.configurationStatus.version, started.version + 1)
        XCTAssertNil(gateway.gateway.configurationStatus.lastReloadError)
        await old.close()
        await session.close()
    }

    func testReloadBindsAddedListenersAndClosesRemovedOnesWithoutTouchingTheirSessions() async throws {
        let echo = "upstreams:\n  echo: {protocol: echo}\nroutes:\n  - match: {path: /echo}\n    upstream: echo\n"
        let gateway = try await ReloadableGateway.start(listeners: [("public", "127.0.0.1:0"), ("extra", "127.0.0.1:0")], echo)
        self.gateway = gateway
        let publicPort = gateway.port("public")
        let extraPort = gateway.port("extra")
        let session = try await TestWebSocketClient.connect(port: extraPort, path: "/echo").requireUpgraded()

        try gateway.write(listeners: [("public", "127.0.0.1:0"), ("other", "127.0.0.1:0")], echo)
        try await gateway.gateway.reload()
        XCTAssertEqual(Set(gateway.gateway.listenerAddresses.keys), ["public", "other", Gateway.adminListenerName])
        XCTAssertEqual(gateway.port("public"), publicPort, "an unchanged listener stays bound on its port")

        let refused = await isRefused(port: extraPort)
        XCTAssertTrue(refused, "the removed listener still accepts")
        let other = try await TestWebSocketClient.connect(port: gateway.port("other"), path: "/echo").requireUpgraded()
        try await other.sendText("added listener")
        let reply = try await other.receiveText()
        XCTAssertEqual(reply, "added listener")
        try await session.sendText("removed listener")
        let kept = try await session.receiveText()
        XCTAssertEqual(kept, "removed listener", "a session accepted on a removed listener keeps running")
        await other.close()
        await session.close()
    }

    func testAListenerThatCannotBeBoundRefusesTheWholeReload() async throws {
        let echo = "upstreams:\n  echo: {protocol: echo}\nroutes:\n  - match: {path: /a}\n    upstream: echo\n"
        let gateway = try await ReloadableGateway.start(listeners: .public, echo)
        self.gateway = gateway
        // The admin listener's port is taken: binding a WebSocket listener there fails.
        let taken = "127.0.0.1:\(gateway.adminPort)"
        try gateway.write(
            listeners: [("public", "127.0.0.1:0"), ("clash", taken)],
            "upstreams:\n  echo: {protocol: echo}\nroutes:\n  - match: {path: /b}\n    upstream: echo\n"
        )
        let (status, body) = try await gateway.postReload()
        XCTAssertEqual(status, 422, body)
        XCTAssertTrue(body.contains("listeners[1].address: cannot bind listener 'clash' to \(taken)"), body)
        XCTAssertEqual(gateway.gateway.configurationStatus.version, 1)
        XCTAssertEqual(Set(gateway.gateway.listenerAddresses.keys), ["public", Gateway.adminListenerName])
        let old = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/a")
        XCTAssertEqual(old.status, 101, "the old routes still serve")
        let new = try await TestWebSocketClient.connect(port: gateway.port("public"), path: "/b")
        XCTAssertEqual(new.status, 404, "the refused file's routes are not served")
        try? await old.requireUpgraded().close()
    }

    /// Issue 11, finding 9: a `self_signed` listener kept its whole TLS context on reload, so an
    /// added `client_auth` was reported as loaded and not enforced.
    func testReloadAddingClientAuthToASelfSignedListenerIsEnforced() async throws {
        let authority = try TestCertificateAuthority()
        let echo = "upstreams: {echo: {protocol: echo}}\nroutes: [{name: echo, upstream: echo}]\n"
        let listeners: ReloadableGateway.Listeners = [("public", "127.0.0.1:0")]
        let gateway = try await ReloadableGateway.start(listeners: listeners, echo, tls: ["public": "{self_signed: true}"])
        self.gateway = gateway
        let probe = ["127.0.0.1", "\(gateway.port("public"))", "--no-verify", "--await-verdict"]
        let before = try await runPythonPeer("tls_probe.py", args: probe, timeout: .seconds(60))
        XCTAssertEqual(before["ok"] as? Bool, true, "\(before)")
        XCTAssertNil(before["closed_after_handshake"], "\(before)")

        let clientAuth = "{self_signed: true, client_auth: {ca: \"\(authority.caPath)\", required: true}}"
        try gateway.write(listeners: listeners, echo, tls: ["public": clientAuth])
        let (status, body) = try await gateway.postReload()
        XCTAssertEqual(status, 200, body)
        let anonymous = try await runPythonPeer("tls_probe.py", args: probe, timeout: .seconds(60))
        XCTAssertTrue(anonymous["ok"] as? Bool == false || anonymous["closed_after_handshake"] as? Bool == true, "\(anonymous)")
        let client = try authority.issue("alice", commonName: "alice", dnsNames: [], ipAddresses: [], clientAuth: true)
        let verified = try await runPythonPeer(
            "tls_probe.py",
            args: probe + ["--client-cert", client.certificatePath, "--client-key", client.keyPath],
            timeout: .seconds(60)
        )
        XCTAssertEqual(verified["ok"] as? Bool, true, "\(verified)")
        XCTAssertNil(verified["closed_after_handshake"], "\(verified)")
    }
}

/// A gateway started from a temporary configuration file, which a test rewrites and reloads.
final class ReloadableGateway {
    typealias Listeners = [(name: String, address: String)]

    let file: URL
    let gateway: Gateway

    private init(file: URL, gateway: Gateway) {
        self.file = file
        self.gateway = gateway
    }

    /// Writes the file (listeners, then an admin listener on 127.0.0.1:0, then `rest`) and starts a gateway on it.
    /// `tls`: the `tls` section of listeners, by name.
    static func start(listeners: Listeners, _ rest: String, tls: [String: String] = [:]) async throws -> ReloadableGateway {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-reload-\(UUID().uuidString).yaml")
        try Self.text(listeners: listeners, rest, tls: tls).write(to: file, atomically: true, encoding: .utf8)
        var logger = Logger(label: "wsgate-test")
        logger.logLevel = .critical
        let gateway = try Gateway(configurationFile: file.path, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        try await gateway.start()
        return ReloadableGateway(file: file, gateway: gateway)
    }

    /// Rewrites the file; returns the text written.
    @discardableResult
    func write(listeners: Listeners, _ rest: String, tls: [String: String] = [:]) throws -> String {
        let text = Self.text(listeners: listeners, rest, tls: tls)
        try text.write(to: self.file, atomically: true, encoding: .utf8)
        return text
    }

    private static func text(listeners: Listeners, _ rest: String, tls: [String: String]) -> String {
        let items = listeners.map { listener in
            "  - name: \(listener.name)\n    address: \(listener.address)\n"
                + (tls[listener.name].map { "    tls: \($0)\n" } ?? "")
        }.joined()
        return "listeners:\n\(items)admin:\n  address: 127.0.0.1:0\n\(rest)"
    }

    func port(_ listener: String) -> Int {
        self.gateway.listenerAddresses[listener]?.port ?? 0
    }

    var adminPort: Int { self.port(Gateway.adminListenerName) }

    /// `POST /reload` on the admin listener: the status and the body.
    func postReload() async throws -> (status: Int, body: String) {
        try await self.adminRequest(
            "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-WSGate-Admin: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    func adminRequest(_ request: String) async throws -> (status: Int, body: String) {
        let response = try await TestWebSocketClient.rawHTTPRequest(port: self.adminPort, request: request)
        let status = response.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }

    func stop() async {
        try? await self.gateway.shutdown()
        try? FileManager.default.removeItem(at: self.file)
    }
}

/// Whether a TCP connection to 127.0.0.1:`port` is refused (nothing listens there).
func isRefused(port: Int) async -> Bool {
    do {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(2))
            .connect(host: "127.0.0.1", port: port)
            .get()
        try? await channel.close()
        return false
    } catch {
        return true
    }
}

extension Array where Element == (name: String, address: String) {
    /// One listener named `public` on an ephemeral loopback port.
    static var `public`: Self { [("public", "127.0.0.1:0")] }
}
