/// A violation of RFC 6455 by a peer, with the close code the gateway answers it with.
struct WebSocketProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    var code: WebSocketCloseCode
    var reason: String
    /// The limit the peer went past, when that is the violation (the code is then 1009).
    var limit: WebSocketLimit?

    init(_ code: WebSocketCloseCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The peer went past `limit`: 1009 (RFC 6455 section 7.4.1).
    init(exceeding limit: WebSocketLimit, _ reason: String) {
        self.init(.messageTooBig, reason)
        self.limit = limit
    }

    var description: String { "\(self.code) \(self.reason)" }
}
