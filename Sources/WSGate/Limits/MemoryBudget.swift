/// The gateway-wide memory budget (`limits.max_memory`) as a value: how close what the gateway holds
/// is to it, and what follows.
///
/// What is held is measured, not estimated: the bytes queued toward every leg of every session
/// (socket pending writes and HTTP/2 stream queues) plus all zlib memory (the counting allocator).
/// Each EventLoop samples its own part (``GatewayMemory``).
struct MemoryBudget: Sendable, Equatable {
    /// What the gateway does at a given use of its budget.
    enum Pressure: Int, Comparable, Sendable {
        /// Below 75 %: nothing.
        case normal
        /// From 75 %: new compressed sessions use the loop's shared zlib streams (no context
        /// takeover), the cheapest permessage-deflate there is.
        case near
        /// From 90 %: new connections get 503 with `Retry-After` (limit `max_memory`).
        case full
        /// Over 100 %: the sessions holding most are closed (1013 to their client) until it is met.
        case over

        static func < (lhs: Pressure, rhs: Pressure) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Bytes; 0 means no budget.
    var limit: Int

    func pressure(used: Int) -> Pressure {
        guard self.limit > 0 else { return .normal }
        if used > self.limit { return .over }
        if used >= self.limit / 10 * 9 { return .full }
        if used >= self.limit / 4 * 3 { return .near }
        return .normal
    }

    /// How many bytes to free to be back within the budget.
    func excess(used: Int) -> Int {
        self.limit > 0 ? max(0, used - self.limit) : 0
    }

    /// Which sessions to close to free `excess` bytes: those holding most first, until enough.
    static func sessionsToClose(holding: [(id: UInt64, bytes: Int)], excess: Int) -> [UInt64] {
        guard excess > 0 else { return [] }
        var freed = 0
        var chosen: [UInt64] = []
        for session in holding.sorted(by: { ($0.bytes, $1.id) > ($1.bytes, $0.id) }) where session.bytes > 0 {
            chosen.append(session.id)
            freed += session.bytes
            if freed >= excess { break }
        }
        return chosen
    }
}
