import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A test peer running as a child process: a server that prints `listening on HOST:PORT` once
/// it accepts connections. `start` returns when that line is read; `stop()` (or deinit) ends it.
///
///     let upstream = try await PeerProcess.echoUpstream()
///     defer { upstream.stop() }
///     ... connect to upstream.port ...
final class PeerProcess: @unchecked Sendable {
    let name: String
    let port: Int
    private let process: Process
    private let output: ProcessOutput
    private let exited: TestOneShot<Int32>

    private init(name: String, port: Int, process: Process, output: ProcessOutput, exited: TestOneShot<Int32>) {
        self.name = name
        self.port = port
        self.process = process
        self.output = output
        self.exited = exited
    }

    deinit {
        self.stop()
    }

    var pid: Int32 { self.process.processIdentifier }
    /// What the peer wrote to stderr so far (for failure messages).
    var stderrText: String { self.output.stderrText }

    /// Starts `executable` and waits (at most `startTimeout`) for its `listening on HOST:PORT` line.
    static func start(
        name: String,
        executable: URL,
        arguments: [String],
        currentDirectory: URL? = nil,
        environment: [String: String]? = nil,
        startTimeout: Duration = .seconds(30)
    ) async throws -> PeerProcess {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        if let environment { process.environment = environment }
        let listening = TestOneShot<Int>()
        let output = ProcessOutput(process: process) { line in
            if line.hasPrefix("listening on "), let colon = line.lastIndex(of: ":"),
                let port = Int(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            {
                listening.complete(.success(port))
            }
        }
        let exited = TestOneShot<Int32>()
        process.terminationHandler = { process in
            exited.complete(.success(process.terminationStatus))
            // Exited before listening: fail the wait now rather than at the timeout.
            output.waitForEOF(seconds: 2)
            let error = PeerProcessError.exitedEarly(name: name, status: process.terminationStatus, stderr: output.stderrText)
            listening.complete(.failure(error))
        }
        try runWithDefaultSignalMask(process)
        output.startReading()

        do {
            let port = try await listening.wait(
                timeout: startTimeout,
                onTimeout: PeerProcessError.timeout("\(name) to print its listening line")
            )
            return PeerProcess(name: name, port: port, process: process, output: output, exited: exited)
        } catch {
            Self.terminate(process, exited: exited)
            throw error
        }
    }

    /// Terminates the peer (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. Idempotent.
    func stop() {
        Self.terminate(self.process, exited: self.exited)
    }

    private static func terminate(_ process: Process, exited: TestOneShot<Int32>) {
        guard process.isRunning else { return }
        process.terminate()
        if exited.waitBlocking(seconds: 5) == nil {
            kill(process.processIdentifier, SIGKILL)
            _ = exited.waitBlocking(seconds: 5)
        }
    }

    // MARK: - The peers

    /// The repository root, found from this file's path (Tests/WSGateTests/Support/PeerProcess.swift).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // WSGateTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// examples/echo-upstream, built by `swift build`/`swift test`.
    static func echoUpstream(arguments: [String] = []) async throws -> PeerProcess {
        try await self.start(
            name: "echo-upstream",
            executable: try self.echoUpstreamExecutable(),
            arguments: ["--host", "127.0.0.1", "--port", "0"] + arguments
        )
    }

    /// Tests/Peers/ws_echo_server.py (Python `websockets`).
    static func pythonEchoServer(arguments: [String] = []) async throws -> PeerProcess {
        try await self.start(
            name: "ws_echo_server.py",
            executable: URL(fileURLWithPath: "/usr/bin/env"),
            arguments: [self.python, "-u", self.peerScript("ws_echo_server.py").path, "--port", "0"] + arguments,
            currentDirectory: self.repositoryRoot
        )
    }

    /// `python3`, or `$WSGATE_PYTHON`.
    static var python: String {
        ProcessInfo.processInfo.environment["WSGATE_PYTHON"] ?? "python3"
    }

    static func peerScript(_ name: String) -> URL {
        self.repositoryRoot.appendingPathComponent("Tests/Peers/\(name)")
    }

    /// The `echo-upstream` executable: `$WSGATE_ECHO_UPSTREAM` if set, else the one next to the
    /// test binary (SwiftPM puts executables and the test bundle in the same bin directory, so this
    /// is the one built with the tests, whatever the configuration), else `.build/debug` or
    /// `.build/release` under the repository root.
    static func echoUpstreamExecutable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["WSGATE_ECHO_UPSTREAM"] {
            return URL(fileURLWithPath: path)
        }
        let candidates = self.binDirectoryCandidates.flatMap { directory in
            ["echo-upstream", "EchoUpstream"].map { directory.appendingPathComponent($0) }
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw PeerProcessError.executableNotFound(
            "echo-upstream not found (looked at \(candidates.map(\.path))); run `swift build --build-tests` first"
        )
    }

    /// Where SwiftPM put the executables built with the tests, most likely first.
    static var binDirectoryCandidates: [URL] {
        var directories: [URL] = []
        // Linux: the test binary is an executable `<Package>PackageTests.xctest` in the bin directory.
        if let executable = Bundle.main.executableURL {
            directories.append(executable.deletingLastPathComponent())
        }
        // macOS: a `.xctest` bundle in the bin directory, loaded by the `xctest` runner.
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        directories.append(self.repositoryRoot.appendingPathComponent(".build/debug"))
        directories.append(self.repositoryRoot.appendingPathComponent(".build/release"))
        return directories
    }
}

/// Runs `Tests/Peers/ws_client.py ARGS` and returns its JSON result line as a dictionary, with
/// the process's exit status added under "exit_code" (0: success, 1: the client reports a failure;
/// the JSON then has an "error"). Throws if it does not finish within `timeout` (it is then killed)
/// or prints no JSON object.
func runPythonClient(args: [String], timeout: Duration = .seconds(120)) async throws -> [String: Any] {
    try await runPythonPeer("ws_client.py", args: args, timeout: timeout)
}

/// Runs `Tests/Peers/SCRIPT ARGS` for its one JSON result line, like `runPythonClient`.
func runPythonPeer(_ script: String, args: [String], timeout: Duration = .seconds(120)) async throws -> [String: Any] {
    try await runJSONPeer(
        script,
        command: [PeerProcess.python, "-u", PeerProcess.peerScript(script).path] + args,
        timeout: timeout
    )
}

/// Runs a peer client through `/usr/bin/env COMMAND…` and returns its last stdout line parsed as a
/// JSON object, with the exit status added under "exit_code". Throws on a timeout or no JSON line.
func runJSONPeer(_ name: String, command: [String], timeout: Duration) async throws -> [String: Any] {
    let result = try await PeerProcess.runProcess(
        executable: URL(fileURLWithPath: "/usr/bin/env"),
        arguments: command,
        currentDirectory: PeerProcess.repositoryRoot,
        timeout: timeout
    )
    let lastLine = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
    guard
        let object = try? JSONSerialization.jsonObject(with: Data(lastLine.utf8)),
        var dictionary = object as? [String: Any]
    else {
        throw PeerProcessError.badOutput(
            "\(name) \(command.joined(separator: " ")) exited \(result.status) without a JSON line; "
                + "stdout: \(result.stdout.debugDescription) stderr: \(result.stderr.debugDescription)"
        )
    }
    dictionary["exit_code"] = Int(result.status)
    return dictionary
}

extension PeerProcess {
    struct ProcessResult: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs a process to completion (killing it after `timeout`) and collects its output.
    static func runProcess(
        executable: URL,
        arguments: [String],
        currentDirectory: URL? = nil,
        timeout: Duration
    ) async throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let exited = TestOneShot<Int32>()
        process.terminationHandler = { exited.complete(.success($0.terminationStatus)) }
        let output = ProcessOutput(process: process, onStdoutLine: nil)
        try runWithDefaultSignalMask(process)
        output.startReading()
        do {
            let status = try await exited.wait(
                timeout: timeout,
                onTimeout: PeerProcessError.timeout("\(arguments.joined(separator: " ")) to finish")
            )
            output.waitForEOF(seconds: 10)
            return ProcessResult(status: status, stdout: output.stdoutText, stderr: output.stderrText)
        } catch {
            process.terminate()
            if exited.waitBlocking(seconds: 5) == nil {
                kill(process.processIdentifier, SIGKILL)
            }
            throw error
        }
    }

    /// `process.run()` from a fresh thread whose signal mask is empty.
    ///
    /// A child inherits the signal mask of the thread that spawns it, and the threads that run Swift
    /// concurrency and Dispatch work on Linux block most signals, SIGTERM and SIGINT included: a
    /// child started from a test would then ignore `terminate()`. Spawning from a thread with an
    /// empty mask gives the child the ordinary mask.
    static func runWithDefaultSignalMask(_ process: Process) throws {
        let box = TestUncheckedSendableBox(process)
        let result = TestLockedBox<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            let outcome = Result { try box.value.run() }
            result.withLock { $0 = outcome }
            done.signal()
        }
        thread.start()
        done.wait()
        try result.withLock { $0 }?.get()
    }
}

struct TestUncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

enum PeerProcessError: Error, CustomStringConvertible {
    case timeout(String)
    case exitedEarly(name: String, status: Int32, stderr: String)
    case executableNotFound(String)
    case badOutput(String)

    var description: String {
        switch self {
        case .timeout(let what): return "timed out waiting for \(what)"
        case .exitedEarly(let name, let status, let stderr): return "\(name) exited (\(status)) before listening: \(stderr)"
        case .executableNotFound(let why): return why
        case .badOutput(let why): return why
        }
    }
}

extension PeerProcess {
    /// Drains a process's stdout and stderr on background threads (so the child never blocks on a
    /// full pipe), keeping the text and reporting each stdout line.
    final class ProcessOutput: @unchecked Sendable {
        private let stdoutPipe = Pipe()
        private let stderrPipe = Pipe()
        private let onStdoutLine: (@Sendable (String) -> Void)?
        private let state = TestLockedBox((stdout: Data(), stderr: Data()))
        private let reading = DispatchGroup()

        init(process: Process, onStdoutLine: (@Sendable (String) -> Void)?) {
            self.onStdoutLine = onStdoutLine
            self.reading.enter()  // left by each reader thread at end of file
            self.reading.enter()
            process.standardOutput = self.stdoutPipe
            process.standardError = self.stderrPipe
        }

        var stdoutText: String { String(decoding: self.state.withLock { $0.stdout }, as: UTF8.self) }
        var stderrText: String { String(decoding: self.state.withLock { $0.stderr }, as: UTF8.self) }

        /// Call after `process.run()`.
        func startReading() {
            let stdout = self.stdoutPipe.fileHandleForReading
            let stderr = self.stderrPipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                var pending = Data()
                while case let chunk = stdout.availableData, !chunk.isEmpty {
                    self.state.withLock { $0.stdout.append(chunk) }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: 10) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        pending.removeSubrange(pending.startIndex...newline)
                        self.onStdoutLine?(line)
                    }
                }
                self.reading.leave()
            }
            Thread.detachNewThread { [self] in
                while case let chunk = stderr.availableData, !chunk.isEmpty {
                    self.state.withLock { $0.stderr.append(chunk) }
                }
                self.reading.leave()
            }
        }

        /// Waits (bounded) until both pipes reached end of file.
        func waitForEOF(seconds: Double) {
            _ = self.reading.wait(timeout: .now() + seconds)
        }
    }
}

/// A value delivered once (the first result wins), awaited by any number of waiters, each with
/// its own timeout (a timeout fails only that wait, not the value).
final class TestOneShot<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Value, any Error>?
    private var waiters: [Int: CheckedContinuation<Value, any Error>] = [:]
    private var nextWaiterID = 0
    private let completed = DispatchGroup()

    init() {
        self.completed.enter()
    }

    func complete(_ result: Result<Value, any Error>) {
        let waiters: [CheckedContinuation<Value, any Error>]? = self.lock.withLock {
            guard self.result == nil else { return nil }
            self.result = result
            defer { self.waiters = [:] }
            return Array(self.waiters.values)
        }
        guard let waiters else { return }
        self.completed.leave()
        for waiter in waiters {
            waiter.resume(with: result)
        }
    }

    func wait(timeout: Duration, onTimeout: @autoclosure () -> any Error) async throws -> Value {
        let error = onTimeout()
        let id: Int = self.lock.withLock {
            self.nextWaiterID += 1
            return self.nextWaiterID
        }
        return try await withCheckedThrowingContinuation { continuation in
            let result: Result<Value, any Error>? = self.lock.withLock {
                if self.result == nil {
                    self.waiters[id] = continuation
                }
                return self.result
            }
            if let result {
                continuation.resume(with: result)
                return
            }
            let (seconds, attoseconds) = timeout.components
            let delay = Double(seconds) + Double(attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in
                guard let self else { return }
                let waiter = self.lock.withLock { self.waiters.removeValue(forKey: id) }
                waiter?.resume(throwing: error)
            }
        }
    }

    /// Blocks the calling thread until there is a result (nil after `seconds`). For stop/deinit.
    func waitBlocking(seconds: Double) -> Result<Value, any Error>? {
        guard self.completed.wait(timeout: .now() + seconds) == .success else { return nil }
        return self.lock.withLock { self.result }
    }
}
