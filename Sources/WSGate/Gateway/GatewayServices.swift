import Synchronization

/// What outlives configuration reloads and every connection reaches: the connection limiter, the
/// memory budget and the access log.
final class GatewayServices: Sendable {
    /// Unique in the process, never reused: the key of the gateway's per-loop state (``GatewayLoopState``).
    let id = GatewayServices.lastID.wrappingAdd(1, ordering: .relaxed).newValue
    private static let lastID = Atomic<UInt64>(0)
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
