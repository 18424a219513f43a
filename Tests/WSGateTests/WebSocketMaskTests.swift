import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

final class WebSocketMaskTests: XCTestCase {
    func testMatchesNIOsBytewiseMaskForEveryOffsetAndLength() {
        let key: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]
        let payload = (0..<37).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
        for offset in 0..<8 {
            for length in 0...payload.count {
                var ours = ByteBuffer(bytes: payload.prefix(length))
                var reference = ours
                ours.applyWebSocketMask(key, offset: offset)
                reference.webSocketMask(key, indexOffset: offset)
                XCTAssertEqual(ours, reference, "offset \(offset) length \(length)")
                ours.applyWebSocketMask(key, offset: offset)
                XCTAssertEqual(Array(ours.readableBytesView), Array(payload.prefix(length)), "masking twice restores")
            }
        }
    }
}

final class MaskingKeyGeneratorTests: XCTestCase {
    func testKeysVaryFromFrameToFrameAndConnectionToConnection() {
        var first = MaskingKeyGenerator()
        var second = MaskingKeyGenerator()
        let keys = (0..<100).map { _ in Array(first.next()) }
        XCTAssertGreaterThan(Set(keys).count, 95, "consecutive keys differ")
        XCTAssertNotEqual(Array(first.next()), Array(second.next()), "each connection is seeded on its own")
    }
}
