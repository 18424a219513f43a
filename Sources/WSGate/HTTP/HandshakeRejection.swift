import NIOHTTP1

/// An HTTP answer that refuses a WebSocket handshake, with the reason shown to the client.
struct HandshakeRejection: Error, Hashable, Sendable, CustomStringConvertible {
    var status: HTTPResponseStatus
    var headers: [(String, String)]
    var message: String
    /// The body another server wrote for the client (a forward-auth refusal), instead of the message.
    var body: (contentType: String, bytes: [UInt8])?

    init(
        _ status: HTTPResponseStatus,
        _ message: String,
        headers: [(String, String)] = [],
        body: (contentType: String, bytes: [UInt8])? = nil
    ) {
        self.status = status
        self.message = message
        self.headers = headers
        self.body = body
    }

    var description: String { "\(self.status.code) \(self.message)" }

    /// The answer the client gets: the message as plain text (or the body given), with the
    /// rejection's headers.
    var answer: HTTPAnswer {
        guard let body = self.body else { return .text(self.status, self.message, headers: self.headers) }
        return HTTPAnswer(status: self.status, contentType: body.contentType, body: body.bytes, headers: self.headers)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message
            && lhs.headers.elementsEqual(rhs.headers, by: { $0 == $1 })
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(self.status.code)
        hasher.combine(self.message)
    }

    static func badRequest(_ message: String) -> Self { Self(.badRequest, message) }

    static let unsupportedVersion = Self(
        .upgradeRequired,
        "unsupported WebSocket version (this server speaks 13)",
        headers: [("Sec-WebSocket-Version", "13")]
    )

    static let notAWebSocketRequest = Self(
        .upgradeRequired,
        "this endpoint only accepts WebSocket upgrades",
        headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")]
    )
}
