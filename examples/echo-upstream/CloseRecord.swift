import Foundation
import NIOCore

/// The last close frame a client sent on a `/record-close` connection, shared by all connections
/// (and event loops) of the process, so a test can ask for it through `/last-close`.
enum CloseRecord {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var last: String?

    /// Records a close frame's payload: "CODE REASON", "CODE" (no reason) or "no-status" (empty).
    static func record(closePayload: ByteBuffer) {
        var payload = closePayload
        let description: String
        if let code = payload.readInteger(as: UInt16.self) {
            let reason = String(decoding: payload.readableBytesView, as: UTF8.self)
            description = reason.isEmpty ? "\(code)" : "\(code) \(reason)"
        } else {
            description = "no-status"
        }
        self.lock.withLock { self.last = description }
    }

    /// The last recorded close, or "none".
    static var lastDescription: String {
        self.lock.withLock { self.last } ?? "none"
    }
}
