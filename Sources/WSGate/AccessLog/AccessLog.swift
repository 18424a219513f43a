import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The access log (`log.access`): sessions and refused handshakes, one line each, to standard error
/// or a file that SIGUSR1 reopens (``Gateway/reopenAccessLog()``) after a rotation.
///
/// The EventLoops never format or write: ``record(_:)`` appends the entry to a pending list under a
/// lock held for an append (once per session, never per frame) and, when the list was empty, asks
/// a serial writer queue to drain it. The queue formats every pending entry and writes them with one
/// blocking `write(2)`, so a slow disk delays the log, not the traffic. The pending list is bounded
/// (``maxPending``); entries beyond it are dropped and counted, and the count is logged in the file.
final class AccessLog: Sendable {
    private struct Pending {
        var entries: [AccessLogEntry] = []
        var drainScheduled = false
        var dropped = 0
    }

    /// The most entries waiting for the writer; more are dropped (and counted).
    static let maxPending = 100_000

    private let pending = NIOLockedValueBox(Pending())
    private let queue = DispatchQueue(label: "wsgate.access-log")
    private let output: Output

    /// Opens the destination (blocking: call off the EventLoops).
    init(_ configuration: AccessLogConfiguration) throws(AccessLogError) {
        self.output = try Output(configuration)
    }

    /// Queues one line; called on an EventLoop.
    func record(_ entry: AccessLogEntry) {
        let schedule = self.pending.withLockedValue { pending -> Bool in
            guard pending.entries.count < Self.maxPending else {
                pending.dropped += 1
                return false
            }
            pending.entries.append(entry)
            defer { pending.drainScheduled = true }
            return !pending.drainScheduled
        }
        if schedule {
            self.queue.async { self.drain() }
        }
    }

    /// Writes what is pending and waits for it (tests; shutdown).
    func flush() {
        self.queue.sync { self.drain() }
    }

    /// Closes and reopens the file (after log rotation moved it); a no-op on standard error. Writes
    /// pending lines to the old file first.
    func reopen() throws(AccessLogError) {
        var failure: AccessLogError?
        self.queue.sync {
            self.drain()
            do throws(AccessLogError) {
                try self.output.reopen()
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// On the writer queue.
    private func drain() {
        let (entries, dropped) = self.pending.withLockedValue { pending in
            defer {
                pending.entries.removeAll(keepingCapacity: true)
                pending.dropped = 0
                pending.drainScheduled = false
            }
            return (pending.entries, pending.dropped)
        }
        guard !entries.isEmpty || dropped > 0 else { return }
        var text = ""
        for entry in entries {
            text += self.output.formatter.line(entry)
        }
        if dropped > 0 {
            text += "wsgate: \(dropped) access log lines dropped (writer behind)\n"
        }
        self.output.write(text)
    }
}

/// The access log file could not be opened.
struct AccessLogError: Error, Sendable, CustomStringConvertible {
    var path: String
    var errno: Int32

    var description: String { "cannot open access log \(self.path): \(String(cString: strerror(self.errno)))" }
}

/// The destination and formatter of an access log, touched only on its writer queue (and at init).
private final class Output: @unchecked Sendable {
    let formatter: AccessLogFormatter
    private let path: String?
    private var descriptor: Int32

    init(_ configuration: AccessLogConfiguration) throws(AccessLogError) {
        self.formatter = AccessLogFormatter(format: configuration.format)
        switch configuration.destination {
        case .standardError:
            self.path = nil
            self.descriptor = STDERR_FILENO
        case .file(let path):
            self.path = path
            self.descriptor = try Self.open(path)
        }
    }

    deinit {
        if self.path != nil { close(self.descriptor) }
    }

    func reopen() throws(AccessLogError) {
        guard let path = self.path else { return }
        let fresh = try Self.open(path)
        close(self.descriptor)
        self.descriptor = fresh
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { systemWrite(self.descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    private static func open(_ path: String) throws(AccessLogError) -> Int32 {
        let descriptor = systemOpen(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AccessLogError(path: path, errno: errno) }
        return descriptor
    }
}

// The C calls, named apart from `Output`'s own `write` and `open`.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}
