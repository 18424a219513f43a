import NIOHTTP1

extension ForwardedFields {
    /// The HTTP/1.1 upgrade request (RFC 6455 section 4.1): `GET` with the end-to-end fields, the
    /// upgrade fields with `key` as `Sec-WebSocket-Key`, then the forwarding fields.
    func webSocketUpgradeHead(key: String) -> HTTPRequestHead {
        var headers = self.endToEnd
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Sec-WebSocket-Key", value: key)
        headers.add(name: "Sec-WebSocket-Version", value: "13")
        headers.add(contentsOf: self.forwarding)
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: self.path, headers: headers)
    }
}
