import NIOCore
import NIOEmbedded
import XCTest

@testable import WSGate

/// The flushes of one loop tick in front of an HTTP/2 connection's handler become one; a full
/// record's worth, or a close, goes on at once.
final class HTTP2FlushCoalescerTests: XCTestCase {
    func testSmallFlushesOfOneTickGoOutTogether() throws {
        let channel = EmbeddedChannel(handler: HTTP2FlushCoalescer())
        for index in 0..<3 {
            channel.write(ByteBuffer(string: "frame \(index)"), promise: nil)
            channel.flush()
        }
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self), "held until the tick ends")
        channel.embeddedEventLoop.run()
        for index in 0..<3 {
            XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "frame \(index)"))
        }
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testAFullRecordOrACloseFlushesAtOnce() throws {
        let channel = EmbeddedChannel(handler: HTTP2FlushCoalescer())
        channel.write(ByteBuffer(repeating: 1, count: HTTP2FlushCoalescer.flushAtOnce), promise: nil)
        channel.flush()
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes, HTTP2FlushCoalescer.flushAtOnce)

        channel.write(ByteBuffer(string: "GOAWAY"), promise: nil)
        channel.flush()
        channel.close(promise: nil)
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "GOAWAY"), "flushed before the close")
    }
}
