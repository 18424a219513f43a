/// A violation of RFC 6455 by a peer, with the close code the gateway answers it with.
public struct WebSocketProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: WebSocketCloseCode
    public var reason: String
    /// The limit the peer went past, when that is the violation (the code is then 1009).
    public var limit: WebSocketLimit?

    public init(_ code: WebSocketCloseCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The peer went past `limit`: 1009 (RFC 6455 section 7.4.1).
    public init(exceeding limit: WebSocketLimit, _ reason: String) {
        self.init(.messageTooBig, reason)
        self.limit = limit
    }

    public var description: String { "\(self.code) \(self.reason)" }
}
