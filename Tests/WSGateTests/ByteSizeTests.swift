import XCTest

@testable import WSGate

final class ByteSizeTests: XCTestCase {
    func testParsesPlainBytesAndUnits() throws {
        XCTAssertEqual(try Scalar.size("512"), 512)
        XCTAssertEqual(try Scalar.size("512B"), 512)
        XCTAssertEqual(try Scalar.size("64KiB"), 65_536)
        XCTAssertEqual(try Scalar.size("1MiB"), 1_048_576)
        XCTAssertEqual(try Scalar.size("2GiB"), 2_147_483_648)
        XCTAssertEqual(try Scalar.size("10KB"), 10_000)
        XCTAssertEqual(try Scalar.size("1MB"), 1_000_000)
        XCTAssertEqual(try Scalar.size("1GB"), 1_000_000_000)
        XCTAssertEqual(try Scalar.size(" 4 KiB "), 4_096)
        XCTAssertEqual(try Scalar.size("0"), 0)
    }

    func testRejectsMalformedSizes() {
        XCTAssertEqual(
            Self.message(Scalar.size, "big"),
            "invalid size 'big' (expected bytes, e.g. 65536, 64KiB or 1MiB)"
        )
        XCTAssertEqual(
            Self.message(Scalar.size, "-1"),
            "invalid size '-1' (expected bytes, e.g. 65536, 64KiB or 1MiB)"
        )
        XCTAssertEqual(
            Self.message(Scalar.size, "10XB"),
            "invalid size '10XB': unknown unit 'XB' (expected one of B, KB, MB, GB, KiB, MiB, GiB)"
        )
        XCTAssertEqual(
            Self.message(Scalar.size, "1mib"),
            "invalid size '1mib': unknown unit 'mib' (expected one of B, KB, MB, GB, KiB, MiB, GiB)"
        )
        XCTAssertEqual(
            Self.message(Scalar.size, "1.5MiB"),
            "invalid size '1.5MiB': unknown unit '.5MiB' (expected one of B, KB, MB, GB, KiB, MiB, GiB)"
        )
        XCTAssertEqual(Self.message(Scalar.size, "9999999999GiB"), "size '9999999999GiB' is too large (at most 1024GiB)")
        XCTAssertEqual(
            Self.message(Scalar.size, "99999999999999999999"),
            "size '99999999999999999999' is too large (at most 1024GiB)"
        )
        XCTAssertEqual(try Scalar.size("1024GiB"), 1 << 40)
        XCTAssertEqual(Self.message(Scalar.size, "1025GiB"), "size '1025GiB' is too large (at most 1024GiB)")
        XCTAssertEqual(
            Self.message(Scalar.size, "9223372036854775807"),
            "size '9223372036854775807' is too large (at most 1024GiB)"
        )
    }

    func testParsesDurations() throws {
        XCTAssertEqual(try Scalar.duration("500ms"), .milliseconds(500))
        XCTAssertEqual(try Scalar.duration("10s"), .seconds(10))
        XCTAssertEqual(try Scalar.duration("2m"), .seconds(120))
        XCTAssertEqual(try Scalar.duration("1h"), .seconds(3600))
        XCTAssertEqual(try Scalar.duration("0"), .zero)
        XCTAssertEqual(try Scalar.duration("0s"), .zero)
        XCTAssertEqual(try Scalar.duration(" 3 s"), .seconds(3))
    }

    func testRejectsMalformedDurations() {
        XCTAssertEqual(
            Self.message(Scalar.duration, "30"),
            "duration '30' needs a unit (one of ms, s, m, h), e.g. '30s'"
        )
        XCTAssertEqual(
            Self.message(Scalar.duration, "soon"),
            "invalid duration 'soon' (expected e.g. 500ms, 10s, 2m or 1h)"
        )
        XCTAssertEqual(
            Self.message(Scalar.duration, "5d"),
            "invalid duration '5d': unknown unit 'd' (expected one of ms, s, m, h)"
        )
        XCTAssertEqual(
            Self.message(Scalar.duration, "1m30s"),
            "invalid duration '1m30s': unknown unit 'm30s' (expected one of ms, s, m, h)"
        )
        XCTAssertEqual(
            Self.message(Scalar.duration, "-1s"),
            "invalid duration '-1s' (expected e.g. 500ms, 10s, 2m or 1h)"
        )
        XCTAssertEqual(
            Self.message(Scalar.duration, "9999999999999999h"),
            "duration '9999999999999999h' is too large"
        )
    }

    func testSuggestsCloseCandidates() {
        let keys = ["host", "path", "path_prefix", "headers"]
        XCTAssertEqual("pathprefix".closestMatch(among: keys), "path_prefix")
        XCTAssertEqual("pathPrefix".closestMatch(among: keys), "path_prefix")
        XCTAssertEqual("hots".closestMatch(among: keys), "host")
        XCTAssertEqual("header".closestMatch(among: keys), "headers")
        XCTAssertNil("upstream".closestMatch(among: keys))
        XCTAssertNil("".closestMatch(among: keys))
    }

    /// The message of the `ValueSyntaxError` `parse` throws for `text`, or a marker when it does not throw.
    static func message<T>(_ parse: (String) throws(ValueSyntaxError) -> T, _ text: String) -> String {
        do {
            let value = try parse(text)
            return "no error, got \(value)"
        } catch {
            return error.message
        }
    }
}
