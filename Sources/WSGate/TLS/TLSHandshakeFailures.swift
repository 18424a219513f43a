import Logging
import NIOCore
import Synchronization

/// Counts a TLS listener's failed handshakes (plain HTTP on the TLS port, no common version or
/// cipher, an untrusted or missing client certificate, a client that gave up or timed out) and logs
/// each at debug: a failing client must not flood the log, but the count shows it.
final class TLSHandshakeFailures: Sendable {
    let listener: String
    private let logger: Logger
    private let failures = Atomic<Int>(0)

    init(listener: String, logger: Logger) {
        self.listener = listener
        self.logger = logger
    }

    /// Failed handshakes since the listener started.
    var count: Int { self.failures.load(ordering: .relaxed) }

    /// Records one failure (once per connection, never on the data path).
    func record(_ reason: String, remoteAddress: SocketAddress?) {
        self.failures.wrappingAdd(1, ordering: .relaxed)
        self.logger.debug(
            "TLS handshake failed",
            metadata: [
                "wsgate.listener": "\(self.listener)",
                "wsgate.remote": "\(remoteAddress.map { "\($0)" } ?? "?")",
                "wsgate.reason": "\(reason)",
            ]
        )
    }
}
