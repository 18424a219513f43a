#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Raises this process's open-file limit so it can hold `needed` sockets (10,000 idle
/// connections need more than the usual soft limit of 1,024).
enum FileDescriptorLimit {
    /// Raises the soft limit to `needed` (and the hard limit too when allowed, as root); returns
    /// the soft limit in force afterwards.
    @discardableResult
    static func raise(to needed: Int) -> Int {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        let wanted = rlim_t(needed)
        if limit.rlim_cur >= wanted {
            return Int(limit.rlim_cur)
        }
        if limit.rlim_max < wanted {
            var raised = rlimit(rlim_cur: wanted, rlim_max: wanted)
            if setrlimit(resource, &raised) == 0 {
                return needed
            }
        }
        limit.rlim_cur = min(wanted, limit.rlim_max)
        _ = setrlimit(resource, &limit)
        getrlimit(resource, &limit)
        return Int(limit.rlim_cur)
    }
}
