import NIOCore
import NIOWebSocket
import XCTest

@testable import WSGate

/// The streaming codec against RFC 7692 section 7.2.3 and the edge cases of frame-by-frame operation.
final class PerMessageDeflateCodecTests: XCTestCase {
    private let allocator = ByteBufferAllocator()
    private let memory = ZlibMemoryCounter()
    private let counters = CompressionCounters()

    private func makeInflater(windowBits: Int = 15, maxMessageSize: Int = 1 << 26, shared: Bool = false) -> PerMessageInflater {
        PerMessageInflater(
            windowBits: windowBits,
            maxMessageSize: maxMessageSize,
            pool: shared ? ZlibStreamPool { [memory] in ZlibInflater(windowBits: windowBits, memory: memory) } : nil,
            memory: self.memory,
            counters: self.counters
        )
    }

    private func makeDeflater(windowBits: Int = 15, minSize: Int = 0, shared: Bool = false) -> PerMessageDeflater {
        let parameters = ZlibStreamParameters(windowBits: windowBits, memoryLevel: 8, level: 6)
        return PerMessageDeflater(
            parameters: parameters,
            minSize: minSize,
            pool: shared ? ZlibStreamPool { [memory] in ZlibDeflater(parameters: parameters, memory: memory) } : nil,
            memory: self.memory,
            counters: self.counters
        )
    }

    /// Feeds frames (opcode, fin, compressed, payload slices) and returns the emitted events.
    private func inflate(
        _ inflater: inout PerMessageInflater,
        _ frames: [(WebSocketOpcode, Bool, Bool, [[UInt8]])]
    ) throws(WebSocketProtocolError) -> [WebSocketFrameEvent] {
        var events: [WebSocketFrameEvent] = []
        for (opcode, fin, compressed, slices) in frames {
            let length = slices.reduce(0) { $0 + $1.count }
            try inflater.receive(
                .frameHead(WebSocketDataFrameHead(opcode: opcode, fin: fin, compressed: compressed, payloadLength: length)),
                allocator: self.allocator
            ) { events.append($0) }
            for (index, slice) in slices.enumerated() {
                let endsFrame = index == slices.count - 1
                try inflater.receive(
                    .payload(self.allocator.buffer(bytes: slice), endsFrame: endsFrame),
                    allocator: self.allocator
                ) { events.append($0) }
            }
        }
        return events
    }

    /// Sends one message as frames of the given sizes and returns the emitted events.
    private func deflate(
        _ deflater: inout PerMessageDeflater,
        _ opcode: WebSocketOpcode,
        _ message: [UInt8],
        frameSizes: [Int]? = nil
    ) throws -> [WebSocketFrameEvent] {
        var events: [WebSocketFrameEvent] = []
        let sizes = frameSizes ?? [message.count]
        var offset = 0
        for (index, size) in sizes.enumerated() {
            let fin = index == sizes.count - 1
            try deflater.send(
                .frameHead(WebSocketDataFrameHead(opcode: index == 0 ? opcode : .continuation, fin: fin, payloadLength: size)),
                allocator: self.allocator
            ) { events.append($0) }
            if size > 0 {
                try deflater.send(
                    .payload(self.allocator.buffer(bytes: message[offset..<offset + size]), endsFrame: true),
                    allocator: self.allocator
                ) { events.append($0) }
            }
            offset += size
        }
        return events
    }

    /// Checks frame structure (lengths, FIN on the last only, RSV1 as expected) and returns the
    /// frames as (opcode, fin, compressed, payload).
    private func frames(_ events: [WebSocketFrameEvent]) -> [(WebSocketOpcode, Bool, Bool, [UInt8])] {
        var frames: [(WebSocketOpcode, Bool, Bool, [UInt8])] = []
        var expected = 0
        for event in events {
            switch event {
            case .frameHead(let head):
                XCTAssertEqual(expected, 0, "new frame before the previous one's payload")
                frames.append((head.opcode, head.fin, head.compressed, []))
                expected = head.payloadLength
            case .payload(let payload, _):
                frames[frames.count - 1].3 += payload.readableBytesView
                expected -= payload.readableBytes
            case .close, .failed:
                XCTFail("unexpected \(event)")
            }
        }
        XCTAssertEqual(expected, 0)
        return frames
    }

    /// The reassembled message of a list of frames, checking RFC 6455 fragmentation.
    private func message(_ events: [WebSocketFrameEvent]) -> (opcode: WebSocketOpcode, bytes: [UInt8]) {
        let frames = self.frames(events)
        XCTAssertFalse(frames.isEmpty)
        for (index, frame) in frames.enumerated() {
            XCTAssertEqual(frame.1, index == frames.count - 1, "FIN only on the last frame")
            XCTAssertEqual(frame.0 == .continuation, index > 0)
        }
        return (frames.first?.0 ?? .continuation, frames.flatMap(\.3))
    }

    // MARK: RFC 7692 section 7.2.3 examples

    func testRFCExampleHelloInOneFrame() throws {
        var inflater = self.makeInflater()
        let events = try self.inflate(&inflater, [(.text, true, true, [[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]])])
        XCTAssertEqual(
            events,
            [
                .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 5)),
                .payload(self.allocator.buffer(string: "Hello"), endsFrame: true),
            ]
        )
    }

    func testRFCExampleHelloFragmented() throws {
        var inflater = self.makeInflater()
        let events = try self.inflate(
            &inflater,
            [
                (.text, false, true, [[0xf2, 0x48, 0xcd]]),
                (.continuation, true, false, [[0xc9, 0xc9], [0x07, 0x00]]),
            ]
        )
        let message = self.message(events)
        XCTAssertEqual(message.opcode, .text)
        XCTAssertEqual(String(decoding: message.bytes, as: UTF8.self), "Hello")
    }

    func testRFCExampleContextTakeoverOnBothSides() throws {
        var deflater = self.makeDeflater()
        let first = self.frames(try self.deflate(&deflater, .text, Array("Hello".utf8)))
        XCTAssertEqual(first.count, 1)
        XCTAssertEqual(first[0].0, .text)
        XCTAssertTrue(first[0].1)
        XCTAssertTrue(first[0].2, "RSV1 on the first frame")
        XCTAssertEqual(first[0].3, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
        let second = self.frames(try self.deflate(&deflater, .text, Array("Hello".utf8)))
        XCTAssertEqual(second[0].3, [0xf2, 0x00, 0x11, 0x00, 0x00])

        var inflater = self.makeInflater()
        let one = try self.inflate(&inflater, [(.text, true, true, [[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]])])
        let two = try self.inflate(&inflater, [(.text, true, true, [[0xf2, 0x00, 0x11, 0x00, 0x00]])])
        XCTAssertEqual(self.message(one).bytes, Array("Hello".utf8))
        XCTAssertEqual(self.message(two).bytes, Array("Hello".utf8))
    }

    func testRFCExampleStoredBlockBFinalAndTwoBlocks() throws {
        let payloads: [[UInt8]] = [
            [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00],  // 7.2.3.3 no compression
            [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],  // 7.2.3.4 BFINAL set
            [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00],  // 7.2.3.5 two blocks
        ]
        var inflater = self.makeInflater()
        for payload in payloads {
            let events = try self.inflate(&inflater, [(.text, true, true, [payload])])
            XCTAssertEqual(String(decoding: self.message(events).bytes, as: UTF8.self), "Hello")
        }
    }

    func testRFCExampleEmptyMessage() throws {
        var deflater = self.makeDeflater()
        let frames = self.frames(try self.deflate(&deflater, .binary, []))
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames[0].3, [0x00], "7.2.3.6: an empty message compresses to a single 0x00")
        XCTAssertTrue(frames[0].2)

        var inflater = self.makeInflater()
        XCTAssertEqual(
            try self.inflate(&inflater, [(.binary, true, true, [[0x00]])]),
            [
                .frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 0))
            ]
        )
        // Compressed frames with no payload at all are an empty message too.
        let empty = try self.inflate(&inflater, [(.binary, false, true, []), (.continuation, true, false, [])])
        XCTAssertEqual(self.message(empty).bytes, [])
    }

    // MARK: Streaming, fragmentation, context

    private func sampleText(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
        let words = ["gateway ", "deflate ", "frame ", "window ", "zlib ", "message ", "π ", "ünïcode ", "\n"]
        var state = seed
        var bytes: [UInt8] = []
        while bytes.count < count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes += Array(words[Int(state >> 33) % words.count].utf8)
        }
        // Cut on a character boundary.
        while bytes.count > count || (bytes.last.map { $0 & 0xC0 == 0x80 || $0 >= 0xC0 } ?? false) { bytes.removeLast() }
        return bytes
    }

    /// Deflates then inflates messages, re-slicing the compressed frames, for every window size.
    func testRoundTripAcrossWindowBitsFragmentsAndContextModes() throws {
        for windowBits in 9...15 {
            for shared in [false, true] {
                var deflater = self.makeDeflater(windowBits: windowBits, shared: shared)
                var inflater = self.makeInflater(windowBits: windowBits, shared: shared)
                for (index, size) in [1, 100, 5000, 70000, 300_000].enumerated() {
                    let original = self.sampleText(size, seed: UInt64(index + windowBits))
                    let count = original.count
                    // Frames of every shape, an empty middle and an empty last frame included.
                    let sizes = count > 1000 ? [count / 3, 0, count / 3, count - 2 * (count / 3), 0] : [count, 0]
                    let compressed = self.frames(try self.deflate(&deflater, .text, original, frameSizes: sizes))
                    XCTAssertTrue(compressed[0].2)
                    XCTAssertTrue(compressed.dropFirst().allSatisfy { !$0.2 }, "RSV1 only on the first frame")
                    // Feed the compressed frames back in slices of 7 bytes.
                    let input = compressed.map { frame in
                        (
                            frame.0, frame.1, frame.2,
                            stride(from: 0, to: frame.3.count, by: 7).map { Array(frame.3[$0..<min($0 + 7, frame.3.count)]) }
                        )
                    }
                    let result = self.message(try self.inflate(&inflater, input))
                    XCTAssertEqual(result.opcode, .text)
                    XCTAssertEqual(result.bytes, original, "window \(windowBits) shared \(shared) size \(size)")
                }
            }
        }
    }

    func testContextTakeoverShrinksRepeatedMessagesAndNoContextTakeoverDoesNot() throws {
        let text = self.sampleText(2000)
        var dedicated = self.makeDeflater()
        var shared = self.makeDeflater(shared: true)
        _ = try self.deflate(&dedicated, .text, text)
        _ = try self.deflate(&shared, .text, text)
        let withContext = self.frames(try self.deflate(&dedicated, .text, text)).flatMap(\.3)
        let withoutContext = self.frames(try self.deflate(&shared, .text, text)).flatMap(\.3)
        XCTAssertLessThan(withContext.count, 40, "the second copy is one back-reference")
        XCTAssertGreaterThan(withoutContext.count, 200, "without context the second copy compresses like the first")
        // A fresh inflater (no context) understands a no-context-takeover message on its own.
        var inflater = self.makeInflater(shared: true)
        XCTAssertEqual(self.message(try self.inflate(&inflater, [(.text, true, true, [withoutContext])])).bytes, text)
    }

    func testMinSizeSendsSmallMessagesUncompressed() throws {
        var deflater = self.makeDeflater(minSize: 64)
        let small = Array(repeating: UInt8(ascii: "a"), count: 63)
        XCTAssertEqual(
            try self.deflate(&deflater, .text, small),
            [
                .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: 63)),
                .payload(self.allocator.buffer(bytes: small), endsFrame: true),
            ]
        )
        let large = self.frames(try self.deflate(&deflater, .text, small + small))
        XCTAssertTrue(large[0].2)
        XCTAssertEqual(self.counters.outboundSkippedMessages, 1)
        XCTAssertEqual(self.counters.outboundMessages, 1)
    }

    func testUncompressedMessagesPassThroughTheInflater() throws {
        var inflater = self.makeInflater()
        let events = try self.inflate(&inflater, [(.binary, false, false, [[1, 2]]), (.continuation, true, false, [[3]])])
        XCTAssertEqual(
            events,
            [
                .frameHead(WebSocketDataFrameHead(opcode: .binary, fin: false, payloadLength: 2)),
                .payload(self.allocator.buffer(bytes: [1, 2]), endsFrame: true),
                .frameHead(WebSocketDataFrameHead(opcode: .continuation, fin: true, payloadLength: 1)),
                .payload(self.allocator.buffer(bytes: [3]), endsFrame: true),
            ]
        )
    }

    // MARK: Frame ends

    /// The inflater ends a message at the marked slice of its final frame, whatever the head announced
    /// and however the payload is sliced.
    func testInflaterEndsTheMessageAtTheMarkedSlice() throws {
        var deflater = self.makeDeflater()
        let text = self.sampleText(3000)
        let compressed = self.frames(try self.deflate(&deflater, .text, text)).flatMap(\.3)
        var inflater = self.makeInflater()
        var events: [WebSocketFrameEvent] = []
        // The announced length is not what ends the frame: the marker is.
        let head = WebSocketDataFrameHead(opcode: .text, fin: true, compressed: true, payloadLength: compressed.count + 1000)
        try inflater.receive(.frameHead(head), allocator: self.allocator) { events.append($0) }
        for byte in compressed.dropLast() {
            try inflater.receive(.payload(self.allocator.buffer(bytes: [byte]), endsFrame: false), allocator: self.allocator) {
                events.append($0)
            }
        }
        XCTAssertFalse(
            events.contains { if case .frameHead(let head) = $0 { head.fin } else { false } },
            "no final frame before the marked slice"
        )
        try inflater.receive(
            .payload(self.allocator.buffer(bytes: [compressed.last!]), endsFrame: true),
            allocator: self.allocator
        ) { events.append($0) }
        XCTAssertEqual(self.message(events).bytes, text)
        XCTAssertEqual(self.counters.inboundMessages, 1)
    }

    /// The deflater flushes at the end of each upstream frame, as the marker says, and ends the message
    /// only at the marked slice of the final frame.
    func testDeflaterFlushesAtTheMarkedSliceOnly() throws {
        var deflater = self.makeDeflater()
        let text = self.sampleText(3000)
        var events: [WebSocketFrameEvent] = []
        try deflater.send(
            .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: text.count)),
            allocator: self.allocator
        ) { events.append($0) }
        try deflater.send(.payload(self.allocator.buffer(bytes: text[..<1500]), endsFrame: false), allocator: self.allocator) {
            events.append($0)
        }
        XCTAssertEqual(events, [], "nothing flushed inside the upstream frame")
        try deflater.send(.payload(self.allocator.buffer(bytes: text[1500...]), endsFrame: true), allocator: self.allocator) {
            events.append($0)
        }
        let frames = self.frames(events)
        XCTAssertEqual(frames.count, 1)
        XCTAssertTrue(frames[0].1, "FIN at the marked slice")
        XCTAssertEqual(self.counters.outboundMessages, 1)
        var inflater = self.makeInflater()
        XCTAssertEqual(self.message(try self.inflate(&inflater, [(.text, true, true, [frames[0].3])])).bytes, text)
    }

    // MARK: Limits and errors

    func testZipBombStopsAtMaxMessageBeforeInflatingMore() throws {
        var deflater = self.makeDeflater()
        let bomb = self.frames(try self.deflate(&deflater, .binary, Array(repeating: 0, count: 16 << 20))).flatMap(\.3)
        XCTAssertLessThan(bomb.count, 20_000)
        var inflater = self.makeInflater(maxMessageSize: 1 << 20)
        var forwarded = 0
        XCTAssertThrowsError(
            try {
                try inflater.receive(
                    .frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, compressed: true, payloadLength: bomb.count)),
                    allocator: self.allocator
                ) { _ in }
                try inflater.receive(.payload(self.allocator.buffer(bytes: bomb), endsFrame: true), allocator: self.allocator) {
                    event in
                    if case .payload(let payload, _) = event { forwarded += payload.readableBytes }
                }
            }()
        ) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .messageTooBig)
        }
        XCTAssertLessThanOrEqual(forwarded, 1 << 20, "nothing past max_message is forwarded")
    }

    func testInvalidUTF8InInflatedTextIs1007() throws {
        var deflater = self.makeDeflater()
        let compressed = self.frames(try self.deflate(&deflater, .binary, [0x48, 0xff, 0x48])).flatMap(\.3)
        var inflater = self.makeInflater()
        XCTAssertThrowsError(try self.inflate(&inflater, [(.text, true, true, [compressed])])) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .invalidPayload)
        }
        // A character cut at the end of the message.
        let truncated = self.frames(try self.deflate(&deflater, .binary, [0x48, 0xc3])).flatMap(\.3)
        var fresh = self.makeInflater()
        XCTAssertThrowsError(try self.inflate(&fresh, [(.text, true, true, [truncated])])) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .invalidPayload)
        }
    }

    func testCorruptCompressedDataIsRejected() throws {
        var inflater = self.makeInflater()
        XCTAssertThrowsError(try self.inflate(&inflater, [(.binary, true, true, [[0xff, 0xff, 0xff, 0xff]])])) { error in
            XCTAssertEqual((error as? WebSocketProtocolError)?.code, .invalidPayload)
        }
    }

    // MARK: Memory

    func testStreamsAreAllocatedLazilyAndFreedOnRelease() throws {
        XCTAssertEqual(self.memory.bytesInUse, 0)
        var deflater = self.makeDeflater()
        var inflater = self.makeInflater()
        XCTAssertEqual(self.memory.bytesInUse, 0, "nothing before the first compressed message")
        let compressed = self.frames(try self.deflate(&deflater, .text, self.sampleText(1000))).flatMap(\.3)
        _ = try self.inflate(&inflater, [(.text, true, true, [compressed])])
        // zlib's arithmetic for window 15, memLevel 8: deflate 2^17 + 2^17 plus its state; inflate 2^15 plus its state.
        XCTAssertGreaterThan(self.memory.bytesInUse, (1 << 17) + (1 << 17) + (1 << 15))
        XCTAssertLessThan(self.memory.bytesInUse, (1 << 17) + (1 << 17) + (1 << 15) + 16 * 1024)
        deflater.release()
        inflater.release()
        XCTAssertEqual(self.memory.bytesInUse, 0)
    }

    func testSharedStreamsLeaveIdleConnectionsWithoutZlibMemory() throws {
        var deflater = self.makeDeflater(shared: true)
        var inflater = self.makeInflater(shared: true)
        let compressed = self.frames(try self.deflate(&deflater, .text, self.sampleText(1000))).flatMap(\.3)
        _ = try self.inflate(&inflater, [(.text, true, true, [compressed])])
        XCTAssertFalse(deflater.holdsStream, "the compressor went back to the pool")
        XCTAssertFalse(inflater.holdsStream)
    }
}
