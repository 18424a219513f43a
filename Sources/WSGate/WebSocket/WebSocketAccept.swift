import Crypto
import Foundation

/// The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` arithmetic of RFC 6455 section 4.
enum WebSocketAccept {
    private static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The accept value a server answers `key` with.
    static func value(forKey key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Data((key + guid).utf8))
        return Data(digest).base64EncodedString()
    }

    /// Whether `key` is base64 of exactly 16 bytes.
    static func isValidKey(_ key: String) -> Bool {
        Data(base64Encoded: key)?.count == 16
    }

    /// A fresh random key for a client handshake.
    static func makeKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}
