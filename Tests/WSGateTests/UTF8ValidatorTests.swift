import XCTest

@testable import WSGate

final class UTF8ValidatorTests: XCTestCase {
    func testAcceptsValidTextInOneGo() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.feed(Array("Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞".utf8)))
        XCTAssertTrue(validator.isComplete)
    }

    func testAcceptsCharactersSplitAcrossChunks() {
        let bytes = Array("κόσμε𝄞".utf8)
        for split in 0...bytes.count {
            var validator = UTF8Validator()
            XCTAssertTrue(validator.feed(bytes[..<split]), "split at \(split)")
            XCTAssertTrue(validator.feed(bytes[split...]), "split at \(split)")
            XCTAssertTrue(validator.isComplete, "split at \(split)")
        }
    }

    func testIncompleteSequenceIsNotComplete() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.feed([0xF0, 0x9D]))
        XCTAssertFalse(validator.isComplete)
    }

    func testRejectsInvalidSequences() {
        let invalid: [[UInt8]] = [
            [0xC0, 0x80],  // overlong NUL
            [0xED, 0xA0, 0x80],  // UTF-16 surrogate
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xFF],
            [0x80],  // lone continuation
            [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64],
        ]
        for bytes in invalid {
            var validator = UTF8Validator()
            XCTAssertFalse(validator.feed(bytes), "\(bytes)")
        }
    }

    func testFailsFastAtTheFirstBadByte() {
        var validator = UTF8Validator()
        XCTAssertTrue(validator.feed([0xCE, 0xBA]))
        XCTAssertFalse(validator.feed([0xF5]))
    }
}
