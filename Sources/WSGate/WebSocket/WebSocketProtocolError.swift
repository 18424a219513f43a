/// A violation of RFC 6455 by a peer, with the close code the gateway answers it with.
public struct WebSocketProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: WebSocketCloseCode
    public var reason: String

    public init(_ code: WebSocketCloseCode, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var status: WebSocketCloseStatus { WebSocketCloseStatus(code: self.code, reason: self.reason) }

    public var description: String { "\(self.code) \(self.reason)" }
}
