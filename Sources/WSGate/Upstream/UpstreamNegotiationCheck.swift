import NIOHTTP1

/// What an upstream's handshake answer must not do, whatever the transport (HTTP/1.1 101 or an
/// HTTP/2 2xx to extended CONNECT): choose a subprotocol the client did not offer (or several), or
/// accept an extension (the upstream leg never offers one).
enum UpstreamNegotiationCheck {
    /// Why `headers` break the negotiation, or nil when they do not.
    static func problem(in headers: HTTPHeaders, offeredSubprotocols: [String]) -> String? {
        let chosen = headers["Sec-WebSocket-Protocol"]
        if let protocolName = chosen.first, chosen.count > 1 || !offeredSubprotocols.contains(protocolName) {
            return "subprotocol \(chosen) was not offered"
        }
        if headers.contains(name: "Sec-WebSocket-Extensions") {
            return "extension accepted that was not offered"
        }
        return nil
    }
}
