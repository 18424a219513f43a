import NIOHTTP1

extension HTTPRequestHead {
    /// Whether the request asks for a WebSocket: an `Upgrade` field naming `websocket`.
    var asksForWebSocket: Bool {
        self.headers[canonicalForm: "Upgrade"].contains { $0.lowercased() == "websocket" }
    }

    /// `limits.max_headers`, for every request of a connection, an upgrade or not: 431 over it.
    func checkFieldCount(max: Int) throws(HandshakeRejection) {
        guard self.headers.count <= max else {
            throw HandshakeRejection(.requestHeaderFieldsTooLarge, "more than \(max) header fields")
        }
    }
}
