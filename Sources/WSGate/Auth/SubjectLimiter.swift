import NIOConcurrencyHelpers
import NIOCore

/// `auth.limits`: connections and messages per authenticated subject, counted across all of the
/// gateway's loops (one lock, taken once per handshake and, with a message limit, once per message
/// of a limited subject). A route keeps its limiter across reloads.
final class SubjectLimiter: Sendable {
    private struct Usage {
        var connections = 0
        var windowStart = NIODeadline.uptimeNanoseconds(0)
        var messages = 0
    }

    let maxConnections: Int
    let maxMessagesPerSecond: Int
    private let usage = NIOLockedValueBox([String: Usage]())

    init(maxConnections: Int, maxMessagesPerSecond: Int) {
        self.maxConnections = maxConnections
        self.maxMessagesPerSecond = maxMessagesPerSecond
    }

    /// A connection slot for `subject`, or `nil` when it holds `max_connections` already.
    func acquire(_ subject: String) -> SubjectLease? {
        let granted = self.usage.withLockedValue { usage -> Bool in
            var entry = usage[subject] ?? Usage()
            guard self.maxConnections == 0 || entry.connections < self.maxConnections else { return false }
            entry.connections += 1
            usage[subject] = entry
            return true
        }
        return granted ? SubjectLease(subject: subject, limiter: self) : nil
    }

    /// Connections `subject` holds now.
    func connections(of subject: String) -> Int {
        self.usage.withLockedValue { $0[subject]?.connections ?? 0 }
    }

    /// Records the start of one of `subject`'s messages; false when it is over the rate of the current
    /// one-second window.
    func allowMessage(from subject: String, at now: NIODeadline) -> Bool {
        guard self.maxMessagesPerSecond > 0 else { return true }
        return self.usage.withLockedValue { usage in
            guard var entry = usage[subject] else { return true }
            if now - entry.windowStart >= .seconds(1) {
                entry.windowStart = now
                entry.messages = 0
            }
            entry.messages += 1
            usage[subject] = entry
            return entry.messages <= self.maxMessagesPerSecond
        }
    }

    fileprivate func release(_ subject: String) {
        self.usage.withLockedValue { usage in
            guard var entry = usage[subject] else { return }
            entry.connections -= 1
            usage[subject] = entry.connections > 0 ? entry : nil
        }
    }
}

/// One connection's slot in its subject's count; given back once, by whoever ends the connection.
final class SubjectLease: Sendable {
    let subject: String
    private let limiter: SubjectLimiter
    private let released = NIOLockedValueBox(false)

    fileprivate init(subject: String, limiter: SubjectLimiter) {
        self.subject = subject
        self.limiter = limiter
    }

    /// Whether the subject may send one more message now (`max_messages_per_second` per subject).
    func allowMessage(at now: NIODeadline) -> Bool {
        self.limiter.allowMessage(from: self.subject, at: now)
    }

    var limitsMessages: Bool { self.limiter.maxMessagesPerSecond > 0 }

    func release() {
        let first = self.released.withLockedValue { released in
            defer { released = true }
            return !released
        }
        if first { self.limiter.release(self.subject) }
    }
}
