import Foundation
import NIOCore

/// The last close frame a client sent on a recording connection (`/record-close`, or any path with
/// `?record=TAG`), per tag, shared by all connections (and event loops) of the process, so a test can
/// ask for it through `/last-close` (`/last-close?record=TAG`).
enum CloseRecord {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var last: [String: String] = [:]

    /// The `record` query parameter of a request URI, if any.
    static func tag(inURI uri: String) -> String? {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") where pair.hasPrefix("record=") {
            return String(pair.dropFirst("record=".count))
        }
        return nil
    }

    /// Records a close frame's payload: "CODE REASON", "CODE" (no reason) or "no-status" (empty).
    static func record(closePayload: ByteBuffer, tag: String) {
        var payload = closePayload
        let description: String
        if let code = payload.readInteger(as: UInt16.self) {
            let reason = String(decoding: payload.readableBytesView, as: UTF8.self)
            description = reason.isEmpty ? "\(code)" : "\(code) \(reason)"
        } else {
            description = "no-status"
        }
        self.lock.withLock { self.last[tag] = description }
    }

    /// The last close recorded under `tag`, or "none".
    static func lastDescription(tag: String) -> String {
        self.lock.withLock { self.last[tag] } ?? "none"
    }
}
