import ArgumentParser
import Foundation
import Logging
import NIOPosix
import WSGate

/// `wsgate validate`: check a config file and print its route table.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a config file: prints 'ok' and the route table, or every error with its line."
    )

    @OptionGroup var options: CommonOptions

    func run() throws {
        do {
            let configuration = try GatewayConfiguration.load(contentsOf: self.options.config)
            // Reads and checks the certificate and key files too; nothing is bound.
            _ = try Gateway(
                configuration: configuration,
                group: MultiThreadedEventLoopGroup.singleton,
                logger: Logger(label: "wsgate")
            )
            print("ok")
            print(RouteTable(configuration: configuration).description)
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
