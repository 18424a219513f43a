/// What outlives configuration reloads and every connection reaches: the connection limiter and
/// the access log.
final class GatewayServices: Sendable {
    let limiter: ConnectionLimiter
    /// Set when `log.access` is configured.
    let accessLog: AccessLog?

    init(limiter: ConnectionLimiter = ConnectionLimiter(), accessLog: AccessLog?) {
        self.limiter = limiter
        self.accessLog = accessLog
    }
}
