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

    /// Every byte of every block is random: across 4,096 keys (256 blocks) each byte value turns up,
    /// and each position of a block varies.
    func testEveryByteOfEveryDrawIsDrawn() {
        var generator = MaskingKeyGenerator()
        let keys = (0..<4096).map { _ in Array(generator.next()) }
        XCTAssertEqual(Set(keys.joined()).count, 256)
        for position in 0..<MaskingKeyGenerator.keysPerBlock {
            let atPosition = stride(from: position, to: keys.count, by: MaskingKeyGenerator.keysPerBlock).map { keys[$0] }
            XCTAssertGreaterThan(Set(atPosition).count, 250, "key \(position) of each block")
        }
    }
}

final class ChaCha20KeystreamTests: XCTestCase {
    /// RFC 8439 section 2.3.2: key 00:01:..:1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, block 1.
    func testTheBlockFunctionMatchesRFC8439() {
        var keystream = ChaCha20Keystream(
            key: SIMD8(0x0302_0100, 0x0706_0504, 0x0b0a_0908, 0x0f0e_0d0c, 0x1312_1110, 0x1716_1514, 0x1b1a_1918, 0x1f1e_1d1c),
            nonce: SIMD2(0x4a00_0000, 0),
            counter: 1 | (0x0900_0000 << 32)
        )
        let block = keystream.nextBlock()
        let expected: [UInt32] = [
            0xe4e7_f110, 0x1559_3bd1, 0x1fdd_0f50, 0xc471_20a3, 0xc7f4_d1c7, 0x0368_c033, 0x9aaa_2204, 0x4e6c_d4c3,
            0x4664_82d2, 0x09aa_9f07, 0x05d7_c214, 0xa202_8bd9, 0xd19c_12b5, 0xb94e_16de, 0xe883_d0cb, 0x4e3c_50a2,
        ]
        XCTAssertEqual((0..<16).map { block[$0] }, expected)
        XCTAssertNotEqual(keystream.nextBlock(), block, "the counter moves on")
    }
}
