import ArgumentParser

/// wsgate-bench: a WebSocket load generator that measures any server (wsgate, nginx, or the
/// upstream itself) with the same client code. scripts/bench.sh runs it against each target.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsgate-bench",
        abstract: "WebSocket load generator: latency, throughput, idle memory and head-of-line scenarios.",
        subcommands: [RunCommand.self, ReportCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
