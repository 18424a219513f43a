/// What outlives configuration reloads and every connection reaches: the connection limiter, the
/// memory budget and the access log.
final class GatewayServices: Sendable {
    let limiter: ConnectionLimiter
    /// What the sessions hold against `limits.max_memory` (its budget follows reloads).
    let memory: GatewayMemory
    /// Set when `log.access` is configured.
    let accessLog: AccessLog?

    init(limiter: ConnectionLimiter = ConnectionLimiter(), memory: GatewayMemory, accessLog: AccessLog?) {
        self.limiter = limiter
        self.memory = memory
        self.accessLog = accessLog
    }
}
