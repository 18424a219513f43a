import XCTest

@testable import WSGate

/// Edge cases of the scalar parsers every key uses.
final class ScalarTests: XCTestCase {
    private static func message<T>(_ parse: (String) throws(ValueSyntaxError) -> T, _ text: String) -> String {
        ByteSizeTests.message(parse, text)
    }

    func testWholeNumbers() throws {
        XCTAssertEqual(try Scalar.wholeNumber("0"), 0)
        XCTAssertEqual(Self.message(Scalar.wholeNumber, "-1"), "'-1' is not a whole number")
        XCTAssertEqual(Self.message(Scalar.wholeNumber, "99999999999999999999"), "'99999999999999999999' is not a whole number")
        XCTAssertEqual(Self.message(Scalar.wholeNumber, "1.5"), "'1.5' is not a whole number")
        XCTAssertEqual(Self.message(Scalar.positiveWholeNumber, "0"), "must be greater than 0")
        XCTAssertEqual(Self.message(Scalar.positiveWholeNumber, "-3"), "'-3' is not a whole number")
        XCTAssertEqual(try Scalar.wholeNumber(in: 0...1024)("1024"), 1024)
        XCTAssertEqual(
            Self.message(Scalar.wholeNumber(in: 1...1024), "1025"),
            "expected a whole number from 1 to 1024, found '1025'"
        )
        XCTAssertEqual(
            Self.message(Scalar.wholeNumber(in: 1...1024), "99999999999999999999"),
            "expected a whole number from 1 to 1024, found '99999999999999999999'"
        )
        XCTAssertEqual(Self.message(Scalar.integer(in: 9...15), "8"), "expected an integer from 9 to 15, found '8'")
    }

    func testSizesAreCappedAtOneTebibyte() throws {
        XCTAssertEqual(try Scalar.size("1099511627776"), Scalar.maximumSize)
        XCTAssertEqual(Self.message(Scalar.size, "1099511627777"), "size '1099511627777' is too large (at most 1024GiB)")
        XCTAssertEqual(Self.message(Scalar.size, "1048577MiB"), "size '1048577MiB' is too large (at most 1024GiB)")
        XCTAssertEqual(try Scalar.size("0"), 0)
        XCTAssertEqual(Self.message(Scalar.positiveSize, "0KiB"), "size must be greater than 0")
        XCTAssertEqual(Self.message(Scalar.positiveSize, "-1"), "invalid size '-1' (expected bytes, e.g. 65536, 64KiB or 1MiB)")
    }

    func testPositiveDurationsRefuseZeroInEverySpelling() throws {
        XCTAssertEqual(try Scalar.duration("0s"), .zero)
        for zero in ["0", "0s", "0ms", "0h"] {
            XCTAssertEqual(Self.message(Scalar.positiveDuration, zero), "duration must be greater than 0", zero)
        }
        XCTAssertEqual(try Scalar.positiveDuration("1ms"), .milliseconds(1))
        XCTAssertEqual(
            Self.message(Scalar.positiveDuration, "-1s"),
            "invalid duration '-1s' (expected e.g. 500ms, 10s, 2m or 1h)"
        )
        XCTAssertEqual(Self.message(Scalar.duration, "9223372036854775808s"), "duration '9223372036854775808s' is too large")
    }

    func testBooleansAndNames() throws {
        XCTAssertEqual(try Scalar.bool("false"), false)
        XCTAssertEqual(Self.message(Scalar.bool, "yes"), "expected true or false, found 'yes'")
        XCTAssertEqual(Self.message(Scalar.choice(TLSMinimumVersion.self), "1.4"), "must be '1.2' or '1.3', not '1.4'")
        XCTAssertEqual(
            Self.message(Scalar.choice(UpstreamProtocol.self), "ws"),
            "must be 'websocket', 'websocket-h2', 'echo' or 'http', not 'ws'"
        )
        XCTAssertEqual(
            Self.message(Scalar.named(UpstreamBalance.self, "balance"), "round_robn"),
            "unknown balance 'round_robn' (did you mean 'round_robin'?)"
        )
    }
}
