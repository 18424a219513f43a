import Foundation

/// Reads the resident memory and CPU time of the server's processes from /proc, so figures are
/// the server's own whatever else runs on the machine (the load generator included).
struct ProcessProbe: Sendable {
    /// The processes measured together (nginx: its master and workers).
    let pids: [Int32]

    struct Sample: Sendable {
        /// Sum of VmRSS, in KiB.
        var residentKiB: Int
        /// Sum of user and system CPU time, in seconds.
        var cpuSeconds: Double
    }

    func sample() throws -> Sample {
        var total = Sample(residentKiB: 0, cpuSeconds: 0)
        for pid in self.pids {
            total.residentKiB += try Self.residentKiB(pid: pid)
            total.cpuSeconds += try Self.cpuSeconds(pid: pid)
        }
        return total
    }

    /// `VmRSS` from /proc/PID/status.
    static func residentKiB(pid: Int32) throws -> Int {
        let status = try self.read("/proc/\(pid)/status")
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1]) {
                return kib
            }
        }
        throw BenchError.proc("no VmRSS in /proc/\(pid)/status")
    }

    /// utime + stime from /proc/PID/stat (fields 14 and 15, in clock ticks), all threads included.
    static func cpuSeconds(pid: Int32) throws -> Double {
        let stat = try self.read("/proc/\(pid)/stat")
        // The command name (field 2) is in parentheses and may hold spaces: count after the last ")".
        guard let close = stat.lastIndex(of: ")") else { throw BenchError.proc("malformed /proc/\(pid)/stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state), so utime (14) is fields[11] and stime (15) fields[12].
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else {
            throw BenchError.proc("malformed /proc/\(pid)/stat")
        }
        return Double(user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw BenchError.proc("cannot read \(path) (is the server running?): \(error)")
        }
    }
}
