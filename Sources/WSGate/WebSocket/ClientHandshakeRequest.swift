import NIOCore
import NIOHTTP1

/// A client's WebSocket upgrade request that passed RFC 6455 section 4.2.1 validation.
struct ClientHandshakeRequest: Sendable {
    var head: HTTPRequestHead
    /// The Host header without normalisation (port included), if any.
    var host: String?
    var key: String
    /// Subprotocols the client offered, in its order of preference.
    var subprotocols: [String]
    var origin: String?

    /// Validates an upgrade request. A request without any upgrade intent gets 426 (this endpoint speaks
    /// only WebSocket), a malformed one 400 (a Host that is not ``HostHeader`` syntax included), an
    /// unsupported version 426 with `Sec-WebSocket-Version: 13`.
    init(validating head: HTTPRequestHead) throws(HandshakeRejection) {
        guard head.version.major == 1, head.version.minor >= 1 else {
            throw .badRequest("WebSocket needs HTTP/1.1")
        }
        guard head.method == .GET else {
            throw .badRequest("WebSocket handshake must use GET, not \(head.method.rawValue)")
        }
        let hosts = head.headers["Host"]
        guard hosts.count == 1, let host = hosts.first, !host.isEmpty else {
            throw .badRequest("exactly one Host header is required")
        }
        guard HostHeader(host) != nil else {
            throw .badRequest("Host header must be host[:port]")
        }
        let upgrade = head.headers[canonicalForm: "Upgrade"]
        if upgrade.isEmpty {
            throw HandshakeRejection.notAWebSocketRequest
        }
        guard upgrade.contains(where: { $0.lowercased() == "websocket" }) else {
            throw .badRequest("Upgrade header does not name websocket")
        }
        guard head.headers[canonicalForm: "Connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            throw .badRequest("Connection header does not contain upgrade")
        }
        let versions = head.headers["Sec-WebSocket-Version"]
        guard versions.count == 1, let version = versions.first else {
            throw .badRequest("exactly one Sec-WebSocket-Version header is required")
        }
        guard version.trimmingSpaces == "13" else {
            throw HandshakeRejection.unsupportedVersion
        }
        let keys = head.headers["Sec-WebSocket-Key"]
        guard keys.count == 1, let key = keys.first?.trimmingSpaces, WebSocketAccept.isValidKey(key) else {
            throw .badRequest("Sec-WebSocket-Key must be one base64 value of 16 bytes")
        }
        self.head = head
        self.host = host
        self.key = key
        self.subprotocols = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
        self.origin = head.headers.first(name: "Origin")
    }

    /// Validates an HTTP/2 extended CONNECT (RFC 8441 section 4, `:protocol websocket`, checked by
    /// the caller), as an HTTP/1-shaped head whose `Host` is the stream's `:authority`: one valid
    /// `Host`, one `Sec-WebSocket-Version` of 13 (426 otherwise, as for an upgrade). There is no
    /// `Sec-WebSocket-Key`: the answer is a 200 without `Sec-WebSocket-Accept`.
    init(validatingExtendedConnect head: HTTPRequestHead) throws(HandshakeRejection) {
        guard head.method == .CONNECT else {
            throw .badRequest("an extended CONNECT must use CONNECT, not \(head.method.rawValue)")
        }
        let hosts = head.headers["Host"]
        guard hosts.count == 1, let host = hosts.first, !host.isEmpty, HostHeader(host) != nil else {
            throw .badRequest(":authority must be one host[:port]")
        }
        let versions = head.headers["Sec-WebSocket-Version"]
        guard versions.count == 1, let version = versions.first else {
            throw .badRequest("exactly one sec-websocket-version header is required")
        }
        guard version.trimmingSpaces == "13" else {
            throw HandshakeRejection.unsupportedVersion
        }
        self.head = head
        self.host = host
        self.key = ""
        self.subprotocols = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
        self.origin = head.headers.first(name: "Origin")
    }

    /// The request target's path, before any query.
    var path: Substring {
        self.head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view = view.dropFirst() }
        while view.last == " " || view.last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
