import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `wsgate` executable running `wsgate run --config FILE` as a child process, for tests
/// of what only a real process shows: signals, exit status, the service group.
///
/// Its stderr log lines are kept and can be awaited (``waitForLine(after:timeout:_:)``); the bound
/// ports come from its `listening` lines, so the config can use port 0.
final class GatewayProcess: @unchecked Sendable {
    let configFile: URL
    private let process: Process
    private let exited = TestOneShot<Int32>()
    private let lock = NSLock()
    private var lines: [String] = []
    private var waiters: [(matches: @Sendable (String) -> Bool, after: Int, result: TestOneShot<String>)] = []

    private init(configFile: URL, process: Process) {
        self.configFile = configFile
        self.process = process
    }

    deinit {
        self.stop()
        try? FileManager.default.removeItem(at: self.configFile)
    }

    var pid: Int32 { self.process.processIdentifier }

    /// Everything the gateway logged so far (for failure messages).
    var log: String { self.lock.withLock { self.lines.joined(separator: "\n") } }

    /// How many lines were logged so far: pass it to `waitForLine(after:)` to wait for a later line.
    var lineCount: Int { self.lock.withLock { self.lines.count } }

    /// Writes `yaml` to a temporary file, starts `wsgate run` on it and waits until every listener
    /// named in `listeners` and the admin listener logged its address.
    static func start(
        _ yaml: String,
        listeners: [String] = ["public"],
        timeout: Duration = .seconds(30)
    ) async throws -> GatewayProcess {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-process-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = ["run", "--config", file.path, "--log-level", "info"]
        let gateway = GatewayProcess(configFile: file, process: process)
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        process.terminationHandler = { [exited = gateway.exited] in exited.complete(.success($0.terminationStatus)) }
        try PeerProcess.runWithDefaultSignalMask(process)
        let handle = stderr.fileHandleForReading
        Thread.detachNewThread { [weak gateway] in
            var pending = Data()
            while case let chunk = handle.availableData, !chunk.isEmpty {
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    gateway?.append(line)
                }
            }
        }
        for name in listeners + ["admin"] {
            _ = try await gateway.waitForLine(timeout: timeout) {
                $0.contains("wsgate.listener=\(name) ") && $0.hasSuffix(" listening")
            }
        }
        return gateway
    }

    /// The port a listener logged it is bound to (its latest `listening` line).
    func port(_ listener: String) -> Int {
        let line = self.lock.withLock {
            self.lines.last { $0.contains("wsgate.listener=\(listener) ") && $0.hasSuffix(" listening") }
        }
        guard let line, let address = line.split(separator: " ").first(where: { $0.hasPrefix("wsgate.address=") }),
            let colon = address.lastIndex(of: ":")
        else { return 0 }
        return Int(address[address.index(after: colon)...]) ?? 0
    }

    /// Waits for a log line (among those from index `after` on) that `matches`, and returns it.
    func waitForLine(
        after: Int = 0,
        timeout: Duration = .seconds(10),
        _ matches: @escaping @Sendable (String) -> Bool
    ) async throws -> String {
        let result = TestOneShot<String>()
        let found: String? = self.lock.withLock {
            if let line = self.lines[min(after, self.lines.count)...].first(where: matches) { return line }
            self.waiters.append((matches, after, result))
            return nil
        }
        if let found { return found }
        return try await result.wait(
            timeout: timeout,
            onTimeout: PeerProcessError.timeout("a wsgate log line; the log so far:\n\(self.log)")
        )
    }

    private func append(_ line: String) {
        let ready: [(TestOneShot<String>)] = self.lock.withLock {
            self.lines.append(line)
            let index = self.lines.count - 1
            let ready = self.waiters.filter { index >= $0.after && $0.matches(line) }
            self.waiters.removeAll { index >= $0.after && $0.matches(line) }
            return ready.map(\.result)
        }
        for waiter in ready { waiter.complete(.success(line)) }
    }

    func signal(_ number: Int32) {
        kill(self.process.processIdentifier, number)
    }

    /// Waits for the process to exit and returns its exit status.
    func waitForExit(timeout: Duration) async throws -> Int32 {
        try await self.exited.wait(timeout: timeout, onTimeout: PeerProcessError.timeout("wsgate to exit; its log:\n\(self.log)"))
    }

    /// Kills the process (SIGKILL) if it still runs.
    func stop() {
        guard self.process.isRunning else { return }
        kill(self.process.processIdentifier, SIGKILL)
        _ = self.exited.waitBlocking(seconds: 5)
    }

    /// The `wsgate` executable built with the tests (next to them), or `$WSGATE_EXECUTABLE`.
    static func executable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["WSGATE_EXECUTABLE"] {
            return URL(fileURLWithPath: path)
        }
        let candidates = PeerProcess.binDirectoryCandidates.map { $0.appendingPathComponent("wsgate") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw PeerProcessError.executableNotFound(
                "wsgate not found (looked at \(candidates.map(\.path))); run `swift build --build-tests` first"
            )
        }
        return found
    }
}
