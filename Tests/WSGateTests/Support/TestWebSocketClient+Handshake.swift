import Foundation
import NIOCore
import NIOWebSocket

extension TestWebSocketClient {
    /// The bytes of an HTTP/1.1 upgrade request and the `Sec-WebSocket-Accept` it expects back.
    struct HandshakeRequest: Sendable {
        let bytes: [UInt8]
        let expectedAccept: String

        init(host: String, port: Int, path: String, extraHeaders: [(String, String)]) {
            var headers: [(String, String)] = [
                ("Host", "\(host):\(port)"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", Self.randomKey()),
                ("Sec-WebSocket-Version", "13"),
            ]
            for (name, value) in extraHeaders {
                if let index = headers.prefix(5).firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
                    headers[index] = (name, value)  // replaces a default header in place
                } else {
                    headers.append((name, value))
                }
            }
            var text = "GET \(path) HTTP/1.1\r\n"
            for (name, value) in headers {
                text += "\(name): \(value)\r\n"
            }
            text += "\r\n"
            self.bytes = Array(text.utf8)
            let key = headers.first { $0.0.lowercased() == "sec-websocket-key" }?.1 ?? ""
            self.expectedAccept = Self.acceptValue(forKey: key)
        }

        static func randomKey() -> String {
            Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        }

        /// base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2.
        static func acceptValue(forKey key: String) -> String {
            Data(SHA1.hash(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
        }
    }

    /// What the handshake handler reports.
    enum HandshakeOutcome: Sendable {
        case upgraded(headers: [(String, String)])
        case refused(status: Int, headers: [(String, String)], body: String)
    }

    /// Reads the HTTP response to the upgrade request from raw bytes.
    ///
    /// On `101` it checks the response, puts NIO's frame encoder/decoder and the inbox handler in its
    /// place, hands them any bytes that followed the response head (frames the server sent at once),
    /// and leaves the pipeline. On another status it reads the body (Content-Length, chunked, or until
    /// the server closes) and reports a refusal.
    final class HandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private static let maxHeadSize = 64 * 1024

        private let expectedAccept: String
        private let maxFrameSize: Int
        private let autoPong: Bool
        private let inbox: FrameInbox
        private let outcome: EventLoopPromise<HandshakeOutcome>

        private var received = ByteBuffer()
        /// Set once a non-101 response head was read; the body is still being read.
        private var refusal: (status: Int, headers: [(String, String)], bodyLength: BodyLength)?

        private enum BodyLength {
            case contentLength(Int)
            case chunked
            case untilClose
        }

        init(
            expectedAccept: String,
            maxFrameSize: Int,
            autoPong: Bool,
            inbox: FrameInbox,
            outcome: EventLoopPromise<HandshakeOutcome>
        ) {
            self.expectedAccept = expectedAccept
            self.maxFrameSize = maxFrameSize
            self.autoPong = autoPong
            self.inbox = inbox
            self.outcome = outcome
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = self.unwrapInboundIn(data)
            self.received.writeBuffer(&buffer)
            if self.refusal != nil {
                self.completeRefusalIfBodyComplete(context: context, closed: false)
            } else {
                self.parseHead(context: context)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if self.refusal != nil {
                self.completeRefusalIfBodyComplete(context: context, closed: true)
            } else {
                let soFar = String(buffer: self.received)
                self.outcome.fail(
                    TestWebSocketClientError.handshakeFailed(
                        "connection closed before a complete response; got \(soFar.debugDescription)"
                    )
                )
            }
            self.inbox.finish(TestWebSocketClientError.connectionClosed)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.outcome.fail(error)
            context.close(promise: nil)
        }

        private func parseHead(context: ChannelHandlerContext) {
            let bytes = self.received.readableBytesView
            guard let end = bytes.firstRange(of: [13, 10, 13, 10] as [UInt8]) else {
                if bytes.count > Self.maxHeadSize {
                    self.fail(context: context, .handshakeFailed("response head larger than \(Self.maxHeadSize) bytes"))
                }
                return
            }
            let headText = String(decoding: bytes[bytes.startIndex..<end.lowerBound], as: UTF8.self)
            self.received.moveReaderIndex(forwardBy: end.upperBound - bytes.startIndex)

            var lines = headText.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let statusParts = statusLine.split(separator: " ", maxSplits: 2)
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
                self.fail(context: context, .handshakeFailed("bad status line \(statusLine.debugDescription)"))
                return
            }
            var headers: [(String, String)] = []
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else {
                    self.fail(context: context, .handshakeFailed("bad header line \(line.debugDescription)"))
                    return
                }
                let name = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers.append((name, value))
            }
            func values(_ name: String) -> [String] {
                headers.filter { $0.0.lowercased() == name }.map { $0.1 }
            }

            if (100..<200).contains(status) && status != 101 {
                self.parseHead(context: context)  // an interim response: the real one follows
                return
            }
            if status == 101 {
                self.upgrade(context: context, headers: headers, values: values)
                return
            }
            let bodyLength: BodyLength
            if values("transfer-encoding").contains(where: { $0.lowercased().contains("chunked") }) {
                bodyLength = .chunked
            } else if let length = values("content-length").first.flatMap({ Int($0) }) {
                bodyLength = .contentLength(length)
            } else {
                bodyLength = .untilClose
            }
            self.refusal = (status, headers, bodyLength)
            self.completeRefusalIfBodyComplete(context: context, closed: false)
        }

        private func upgrade(context: ChannelHandlerContext, headers: [(String, String)], values: (String) -> [String]) {
            let accept = values("sec-websocket-accept")
            guard accept == [self.expectedAccept] else {
                self.fail(
                    context: context,
                    .invalidUpgradeResponse("Sec-WebSocket-Accept \(accept), expected \(self.expectedAccept)")
                )
                return
            }
            guard values("upgrade").map({ $0.lowercased() }) == ["websocket"] else {
                self.fail(context: context, .invalidUpgradeResponse("Upgrade \(values("upgrade"))"))
                return
            }
            let connectionTokens = values("connection").flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard connectionTokens.contains("upgrade") else {
                self.fail(context: context, .invalidUpgradeResponse("Connection \(values("connection"))"))
                return
            }
            do {
                try context.pipeline.syncOperations.addHandlers(
                    [
                        WebSocketFrameEncoder(),
                        ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: self.maxFrameSize)),
                        FrameInboxHandler(inbox: self.inbox, autoPong: self.autoPong),
                    ],
                    position: .after(self)
                )
            } catch {
                self.fail(context: context, .handshakeFailed("cannot set up the WebSocket pipeline: \(error)"))
                return
            }
            self.outcome.succeed(.upgraded(headers: headers))
            let leftover = self.received
            self.received = ByteBuffer()
            if leftover.readableBytes > 0 {
                context.fireChannelRead(self.wrapInboundOut(leftover))
                context.fireChannelReadComplete()
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }

        private func completeRefusalIfBodyComplete(context: ChannelHandlerContext, closed: Bool) {
            guard let refusal = self.refusal else { return }
            let available = Array(self.received.readableBytesView)
            var body: [UInt8]?
            switch refusal.bodyLength {
            case .contentLength(let length):
                if available.count >= length {
                    body = Array(available.prefix(length))
                } else if closed {
                    body = available
                }
            case .chunked:
                body = Self.decodeChunked(available) ?? (closed ? available : nil)
            case .untilClose:
                body = closed ? available : nil
            }
            guard let body else { return }
            self.outcome.succeed(
                .refused(status: refusal.status, headers: refusal.headers, body: String(decoding: body, as: UTF8.self))
            )
        }

        private func fail(context: ChannelHandlerContext, _ error: TestWebSocketClientError) {
            self.outcome.fail(error)
            context.close(promise: nil)
        }

        /// The body of a complete chunked encoding, or nil if more bytes are needed.
        static func decodeChunked(_ bytes: [UInt8]) -> [UInt8]? {
            var body: [UInt8] = []
            var index = 0
            while true {
                guard let lineEnd = bytes[index...].firstRange(of: [13, 10] as [UInt8]) else { return nil }
                let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16)
                else { return nil }
                index = lineEnd.upperBound
                if size == 0 { return body }
                guard bytes.count >= index + size + 2 else { return nil }
                body += bytes[index..<index + size]
                index += size + 2
            }
        }
    }

    /// A minimal SHA-1 (FIPS 180-4), only to check `Sec-WebSocket-Accept`.
    enum SHA1 {
        static func hash(_ message: [UInt8]) -> [UInt8] {
            var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
            var data = message
            data.append(0x80)
            while data.count % 64 != 56 { data.append(0) }
            let bitLength = UInt64(message.count) * 8
            data += (0..<8).reversed().map { UInt8(truncatingIfNeeded: bitLength >> (UInt64($0) * 8)) }

            for chunk in stride(from: 0, to: data.count, by: 64) {
                var w = [UInt32](repeating: 0, count: 80)
                for i in 0..<16 {
                    let b = chunk + i * 4
                    w[i] = UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
                }
                for i in 16..<80 {
                    let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                    w[i] = x << 1 | x >> 31
                }
                var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
                for i in 0..<80 {
                    let (f, k): (UInt32, UInt32)
                    switch i {
                    case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                    case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                    case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                    default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                    }
                    let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                    (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
                }
                h[0] &+= a
                h[1] &+= b
                h[2] &+= c
                h[3] &+= d
                h[4] &+= e
            }
            return h.flatMap { word in (0..<4).reversed().map { UInt8(truncatingIfNeeded: word >> (UInt32($0) * 8)) } }
        }
    }
}
