#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (RLIMIT_NOFILE), which bounds how many connections the gateway can
/// hold. At start the soft limit is raised to the hard one, as nginx's `worker_rlimit_nofile` and
/// HAProxy do: the usual soft default of 1,024 would cap the gateway at about a thousand clients.
/// (The load generator raises its own limit with its own small copy: it does not link the gateway.)
struct OpenFileLimit: Sendable, Equatable {
    var soft: Int
    var hard: Int

    /// The limits in force now.
    static var current: OpenFileLimit {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else { return OpenFileLimit(soft: 0, hard: 0) }
        return OpenFileLimit(soft: Self.count(limit.rlim_cur), hard: Self.count(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one; returns the limits in force afterwards.
    @discardableResult
    static func raiseSoftToHard() -> OpenFileLimit {
        var limit = rlimit()
        if getrlimit(Self.resource, &limit) == 0, limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Self.resource, &limit)
        }
        return Self.current
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    private static func count(_ value: rlim_t) -> Int {
        value > rlim_t(Int.max) ? Int.max : Int(value)
    }
}
