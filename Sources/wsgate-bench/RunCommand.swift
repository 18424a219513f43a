import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `wsgate-bench run`: runs scenarios against one WebSocket server (a gateway, or the upstream
/// itself) and prints one JSON line per scenario run on stdout and a table on stderr.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run scenarios against one WebSocket server (the default command).",
        discussion: """
            Echo scenarios send to PATH (default /echo); `hol` opens its stalled client on
            /send/N, where the upstream (examples/echo-upstream) sends N messages of 1 KiB at once.
            Loopback targets only.
            """
    )

    @Option(help: "The server: ws://HOST:PORT or wss://HOST:PORT (TLS 1.3, certificate not verified; loopback), with an optional path for echo scenarios.")
    var url: WebSocketURL

    @Option(help: "Label of the target in the output (direct, wsgate, nginx, ...).")
    var target = "server"

    @Option(
        name: .customLong("scenario"),
        help: "Scenario to run, repeatable (default: all): \(Scenario.allValueStrings.joined(separator: ", "))."
    )
    var scenarios: [Scenario] = []

    @Option(help: "Measured time of each run (5s, 500ms, ...).")
    var duration = BenchDuration(seconds: 5)

    @Option(help: "Unmeasured time before each run is measured.")
    var warmup = BenchDuration(seconds: 1)

    @Option(help: "Connections of echo32 and echo16k.")
    var echoConnections = 64

    @Option(help: "Messages each echoing connection keeps in flight.")
    var window = 1

    @Option(help: "Connections of the idle scenario.")
    var idleConnections = 10_000

    @Option(help: "Echoing connections of the hol scenario.")
    var holActive = 20

    @Option(help: "Messages of 1 KiB the upstream floods the stalled hol client with (/send/N).")
    var holFlood = 65_536

    @Option(
        name: .customLong("server-pid"),
        help: "A process of the server whose CPU time and VmRSS are measured, repeatable (summed: nginx master and workers)."
    )
    var serverPIDs: [Int32] = []

    @Option(help: "Event-loop threads of the load generator.")
    var threads = 2

    @Option(help: "Connections opened at once while ramping up.")
    var connectConcurrency = 200

    @Flag(
        help: "Open the WebSockets as RFC 8441 extended CONNECT streams of one HTTP/2 connection (wss:// only, ALPN h2), as a browser does; more connections only where the server's MAX_CONCURRENT_STREAMS is full."
    )
    var http2 = false

    @Option(help: "With --http2: HTTP/2 connections the WebSockets are spread over, round robin.")
    var http2Connections = 1

    @Flag(help: "Compressed variants (scenario e): not available until permessage-deflate lands; rejected.")
    var compression = false

    func validate() throws {
        if self.compression {
            throw ValidationError(
                "--compression: the compressed scenarios (e) come with permessage-deflate support; not available yet"
            )
        }
        guard ["localhost", "::1"].contains(self.url.host) || self.url.host.hasPrefix("127.") else {
            throw ValidationError("--url: wsgate-bench only targets loopback addresses (127.0.0.0/8, ::1, localhost)")
        }
        guard self.echoConnections > 0, self.idleConnections > 0, self.holActive > 0, self.window > 0, self.threads > 0,
            self.connectConcurrency > 0, self.holFlood >= 0, self.http2Connections > 0
        else {
            throw ValidationError(
                "connection counts, --window, --threads, --connect-concurrency and --http2-connections must be positive"
            )
        }
        if self.http2, !self.url.tls {
            throw ValidationError("--http2: needs a wss:// URL (HTTP/2 from clients is negotiated in TLS, ALPN h2)")
        }
    }

    func run() async throws {
        let scenarios = self.scenarios.isEmpty ? Scenario.allCases : self.scenarios
        let needed = max(self.idleConnections, self.echoConnections, self.holActive + 1) + 256
        let limit = FileDescriptorLimit.raise(to: needed)
        if limit < needed {
            FileHandle.standardError.write(
                Data("wsgate-bench: warning: open-file limit is \(limit), below the \(needed) needed\n".utf8)
            )
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.threads)
        let runner = ScenarioRunner(
            options: self,
            group: group,
            probe: self.serverPIDs.isEmpty ? nil : ProcessProbe(pids: self.serverPIDs)
        )
        var results: [ScenarioResult] = []
        do {
            for scenario in scenarios {
                for result in try await runner.run(scenario) {
                    print(result.jsonLine())
                    fflush(nil)  // all streams: each line reaches a pipe as soon as it is printed
                    results.append(result)
                }
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        FileHandle.standardError.write(Data((Self.table(results) + "\n").utf8))
        if results.contains(where: { $0.errors > 0 }) {
            throw ExitCode(3)
        }
    }

    /// The human table of this run's results.
    static func table(_ results: [ScenarioResult]) -> String {
        let header = [
            "scenario", "target", "conns", "msgs/s", "MB/s", "p50 µs", "p99 µs", "errors", "CPU s/M msgs", "KiB/conn", "RSS KiB",
        ]
        let rows = results.map { result -> [String] in
            [
                result.caseName, result.target, String(result.connections),
                formatFigure(result.messagesPerSecond), formatFigure(result.megabytesPerSecond),
                formatFigure(result.p50Microseconds), formatFigure(result.p99Microseconds),
                String(result.errors), formatFigure(result.cpuSecondsPerMillionMessages),
                formatFigure(result.rssPerConnectionKiB), result.rssAfterKiB.map(String.init) ?? "–",
            ]
        }
        return markdownTable(header: header, rows: rows)
    }
}
