import ArgumentParser
import Logging

@main
struct WSGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsgate",
        abstract: "A WebSocket gateway: routes client WebSockets to upstream apps by rules from a config file.",
        subcommands: [RunCommand.self, ValidateCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the YAML config file.")
    var config: String = "config/wsgate.yaml"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
