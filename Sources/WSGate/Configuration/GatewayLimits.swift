import Foundation

/// Connection limits over the whole gateway (YAML `limits`), next to each route's
/// `limits.max_connections`. A handshake over any of them is answered 503 with `Retry-After` and
/// counted as a limit hit.
struct GatewayLimits: Sendable, Equatable {
    /// The most client connections the gateway serves at once, over all routes, counted from accept
    /// (connections that have not sent a byte yet included). `0` means no limit. Default: 0.
    var maxConnections: Int
    /// The most connections one client IP address may have at once, over all routes, counted from
    /// accept. `0` means no limit. Default: 0.
    var maxConnectionsPerIP: Int
    /// The most connections whose handshake (TLS included) is not finished; past it a new connection
    /// is closed as soon as it is accepted, with nothing read or answered. `0` means no limit.
    /// Default: 1024.
    var maxPendingHandshakes: Int
    /// The gateway's memory budget in bytes (``MemoryBudget``): bytes queued toward all legs plus zlib
    /// memory. From 75 % new compressed sessions use shared zlib streams, from 90 % new connections get
    /// 503, over it the sessions holding most are closed with 1013. `0` means no budget. Default: half
    /// of the machine's memory (`MemTotal` in /proc/meminfo), 1 GiB where that cannot be read.
    var maxMemory: Int
    /// The `Retry-After` value of a 503 answered for a connection limit, whole seconds (rounded up).
    /// Default: 1 s.
    var retryAfter: Duration

    /// Creates gateway limits; by default none.
    init(
        maxConnections: Int = 0,
        maxConnectionsPerIP: Int = 0,
        maxPendingHandshakes: Int = 1024,
        maxMemory: Int = GatewayLimits.defaultMaxMemory,
        retryAfter: Duration = .seconds(1)
    ) {
        self.maxMemory = maxMemory
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.maxPendingHandshakes = maxPendingHandshakes
        self.retryAfter = retryAfter
    }
}

extension GatewayLimits {
    /// Half of the machine's memory, or 1 GiB where /proc/meminfo cannot be read.
    static let defaultMaxMemory: Int = {
        let fallback = 1 << 30
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return fallback }
        return kibibytes * 1024 / 2
    }()
}
