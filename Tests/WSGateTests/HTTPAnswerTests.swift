import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@testable import WSGate

/// The one plain-HTTP answer writer: as response parts behind NIO's encoder, and as bytes in front of it.
final class HTTPAnswerTests: XCTestCase {
    /// Writes its answer when a request part arrives.
    private final class Answering: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        let answer: HTTPAnswer
        let closing: Bool

        init(_ answer: HTTPAnswer, closing: Bool) {
            self.answer = answer
            self.closing = closing
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            self.answer.write(to: context, closing: self.closing)
        }
    }

    private func written(_ answer: HTTPAnswer, closing: Bool) throws -> (EmbeddedChannel, HTTPResponseHead, String) {
        let channel = EmbeddedChannel(handler: Answering(answer, closing: closing))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        guard case .head(let head) = try XCTUnwrap(channel.readOutbound(as: HTTPServerResponsePart.self)),
            case .body(.byteBuffer(let body)) = try XCTUnwrap(channel.readOutbound(as: HTTPServerResponsePart.self)),
            case .end(nil) = try XCTUnwrap(channel.readOutbound(as: HTTPServerResponsePart.self))
        else {
            XCTFail("expected head, body and end")
            throw ChannelError.inappropriateOperationForState
        }
        return (channel, head, String(buffer: body))
    }

    func testATextAnswerCarriesItsLengthTypeAndHeaders() throws {
        let answer = HTTPAnswer.text(.serviceUnavailable, "busy", headers: [("Retry-After", "1")])
        let (channel, head, body) = try self.written(answer, closing: true)
        XCTAssertEqual(head.status, .serviceUnavailable)
        XCTAssertEqual(body, "busy\n")
        XCTAssertEqual(head.headers["Content-Type"], ["text/plain; charset=utf-8"])
        XCTAssertEqual(head.headers["Content-Length"], ["5"])
        XCTAssertEqual(head.headers["Retry-After"], ["1"])
        XCTAssertEqual(head.headers["Connection"], ["close"])
        XCTAssertFalse(channel.isActive, "closed once written")
    }

    func testAKeptConnectionStaysOpen() throws {
        let answer = HTTPAnswer(status: .ok, contentType: "application/json", body: Array("{}".utf8))
        let (channel, head, body) = try self.written(answer, closing: false)
        XCTAssertEqual(body, "{}")
        XCTAssertEqual(head.headers["Connection"], [])
        XCTAssertTrue(channel.isActive)
        _ = try channel.finish()
    }

    func testTheEncodedFormIsTheSameAnswerOnTheWire() {
        let answer = HTTPAnswer.text(.requestHeaderFieldsTooLarge, "request header fields too large")
        let text = String(buffer: answer.encoded(allocator: ByteBufferAllocator()))
        XCTAssertEqual(
            text,
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: 32\r\nConnection: close\r\n\r\nrequest header fields too large\n"
        )
    }

    func testAHandshakeRejectionAnswersWithItsStatusMessageAndHeaders() {
        let head = HandshakeRejection.unsupportedVersion.answer.head(closing: true)
        XCTAssertEqual(head.status, .upgradeRequired)
        XCTAssertEqual(head.headers["Sec-WebSocket-Version"], ["13"])
        XCTAssertEqual(
            HandshakeRejection.unsupportedVersion.answer.body,
            Array("unsupported WebSocket version (this server speaks 13)\n".utf8)
        )
    }
}
