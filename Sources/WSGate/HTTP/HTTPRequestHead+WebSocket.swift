import NIOHTTP1

extension HTTPRequestHead {
    /// Whether the request asks for a WebSocket: an `Upgrade` field naming `websocket`.
    var asksForWebSocket: Bool {
        self.headers[canonicalForm: "Upgrade"].contains { $0.lowercased() == "websocket" }
    }
}
