/// A WebSocket close status code (RFC 6455 section 7.4).
///
/// A plain wrapper rather than NIO's `WebSocketErrorCode`, because the gateway relays arbitrary
/// application codes (3000-4999) between legs and needs the "may appear on the wire" rule in one place.
struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    var rawValue: UInt16

    init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    static let normalClosure = Self(rawValue: 1000)
    static let goingAway = Self(rawValue: 1001)
    static let protocolError = Self(rawValue: 1002)
    static let unsupportedData = Self(rawValue: 1003)
    static let invalidPayload = Self(rawValue: 1007)
    static let policyViolation = Self(rawValue: 1008)
    static let messageTooBig = Self(rawValue: 1009)
    static let internalError = Self(rawValue: 1011)
    static let tryAgainLater = Self(rawValue: 1013)
    static let badGateway = Self(rawValue: 1014)

    /// Whether an endpoint may send this code in a close frame. 1005, 1006 and 1015 are reserved for
    /// local reporting; 1004 and 1016-2999 are unassigned or reserved for future standards.
    var isAllowedOnWire: Bool {
        switch self.rawValue {
        case 1000...1003, 1007...1014: return true
        case 3000...4999: return true
        default: return false
        }
    }

    var description: String { String(self.rawValue) }
}

/// The status carried by a close frame: an optional code (absent means "no status", 1005) and a reason.
struct WebSocketCloseStatus: Hashable, Sendable, CustomStringConvertible {
    var code: WebSocketCloseCode?
    var reason: String

    init(code: WebSocketCloseCode?, reason: String = "") {
        self.code = code
        self.reason = reason
    }

    var description: String {
        guard let code else { return "no status" }
        return self.reason.isEmpty ? "\(code)" : "\(code) \(self.reason)"
    }
}
