/// A WebSocket close status code (RFC 6455 section 7.4).
///
/// A plain wrapper rather than NIO's `WebSocketErrorCode`, because the gateway relays arbitrary
/// application codes (3000-4999) between legs and needs the "may appear on the wire" rule in one place.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let normalClosure = Self(rawValue: 1000)
    public static let goingAway = Self(rawValue: 1001)
    public static let protocolError = Self(rawValue: 1002)
    public static let unsupportedData = Self(rawValue: 1003)
    public static let invalidPayload = Self(rawValue: 1007)
    public static let policyViolation = Self(rawValue: 1008)
    public static let messageTooBig = Self(rawValue: 1009)
    public static let internalError = Self(rawValue: 1011)
    public static let tryAgainLater = Self(rawValue: 1013)
    public static let badGateway = Self(rawValue: 1014)

    /// Whether an endpoint may send this code in a close frame. 1005, 1006 and 1015 are reserved for
    /// local reporting; 1004 and 1016-2999 are unassigned or reserved for future standards.
    public var isAllowedOnWire: Bool {
        switch self.rawValue {
        case 1000...1003, 1007...1014: return true
        case 3000...4999: return true
        default: return false
        }
    }

    public var description: String { String(self.rawValue) }
}

/// The status carried by a close frame: an optional code (absent means "no status", 1005) and a reason.
public struct WebSocketCloseStatus: Hashable, Sendable, CustomStringConvertible {
    public var code: WebSocketCloseCode?
    public var reason: String

    public init(code: WebSocketCloseCode?, reason: String = "") {
        self.code = code
        self.reason = reason
    }

    public var description: String {
        guard let code else { return "no status" }
        return self.reason.isEmpty ? "\(code)" : "\(code) \(self.reason)"
    }
}
