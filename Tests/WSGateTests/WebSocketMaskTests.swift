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

    /// Every byte of every refill is random: across 16,384 keys (256 refills) each byte value turns
    /// up, and each position of a refill varies.
    func testEveryByteOfEveryDrawIsDrawn() {
        var generator = MaskingKeyGenerator()
        let refills = 256
        let keys = (0..<refills * MaskingKeyGenerator.keysPerRefill).map { _ in Array(generator.next()) }
        XCTAssertEqual(Set(keys.joined()).count, 256)
        for position in 0..<MaskingKeyGenerator.keysPerRefill {
            let atPosition = stride(from: position, to: keys.count, by: MaskingKeyGenerator.keysPerRefill).map { keys[$0] }
            XCTAssertGreaterThan(Set(atPosition).count, 250, "key \(position) of each block")
        }
    }
}
