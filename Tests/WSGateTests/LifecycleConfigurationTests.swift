import XCTest

@testable import WSGate

/// The `shutdown` and `reload` sections: defaults, values and errors with file, line and key path.
final class LifecycleConfigurationTests: XCTestCase {
    private static let listener = "listeners: [{address: 127.0.0.1:8080}]\n"

    func testDefaults() throws {
        let configuration = try GatewayConfiguration.parse(yaml: Self.listener, file: "t.yaml")
        XCTAssertEqual(configuration.shutdown, ShutdownConfiguration(grace: .seconds(2), timeout: .seconds(10)))
        XCTAssertEqual(configuration.reload.watchInterval, .zero)
    }

    func testValues() throws {
        let configuration = try GatewayConfiguration.parse(
            yaml: Self.listener + "shutdown: {grace: 500ms, timeout: 0}\nreload: {watch_interval: 5s}\n",
            file: "t.yaml"
        )
        XCTAssertEqual(configuration.shutdown, ShutdownConfiguration(grace: .milliseconds(500), timeout: .zero))
        XCTAssertEqual(configuration.reload.watchInterval, .seconds(5))
        let partial = try GatewayConfiguration.parse(yaml: Self.listener + "shutdown:\n  timeout: 30s\n", file: "t.yaml")
        XCTAssertEqual(partial.shutdown, ShutdownConfiguration(grace: .seconds(2), timeout: .seconds(30)))
    }

    func testErrorsNameFileLineAndKey() {
        XCTAssertThrowsError(
            try GatewayConfiguration.parse(
                yaml: Self.listener + "shutdown:\n  grace: 2\n  timeuot: 5s\nreload: {watch_interval: soon}\n",
                file: "t.yaml"
            )
        ) { error in
            XCTAssertEqual(
                (error as? ConfigurationError)?.issues.map(\.description),
                [
                    "t.yaml:3:10: shutdown.grace: duration '2' needs a unit (one of ms, s, m, h), e.g. '2s'",
                    "t.yaml:4:3: shutdown.timeuot: unknown key (did you mean 'timeout'?)",
                    "t.yaml:5:26: reload.watch_interval: invalid duration 'soon' (expected e.g. 500ms, 10s, 2m or 1h)",
                ]
            )
        }
    }
}
