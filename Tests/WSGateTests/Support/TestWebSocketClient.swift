import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket

/// An async/await WebSocket client for tests, built on SwiftNIO.
///
/// It does its own small HTTP/1.1 handshake (so a refused upgrade comes back with its status,
/// headers and body) and then frames with NIO's `WebSocketFrameEncoder`/`WebSocketFrameDecoder`,
/// *without* aggregation: every frame the server sends can be inspected on its own with
/// `nextFrame()`, control frames included. `receiveMessage()` reassembles fragments.
///
/// Every wait is bounded by a timeout; nothing sleeps.
///
///     let ws = try await TestWebSocketClient.connect(port: port, path: "/").requireUpgraded()
///     try await ws.sendText("hello")
///     let (opcode, data) = try await ws.receiveMessage()
///     try await ws.sendClose(code: 1000)
///     let (code, reason) = try await ws.waitForClose()
final class TestWebSocketClient: Sendable {
    /// How the opening handshake ended.
    enum HandshakeResult: Sendable {
        /// `101 Switching Protocols`, with the response headers in the order received.
        case upgraded(TestWebSocketClient, headers: [(String, String)])
        /// Any other final response: the server refused the upgrade.
        case refused(status: Int, headers: [(String, String)], body: String)

        /// The client, or a thrown `TestWebSocketClientError.notUpgraded` when refused.
        func requireUpgraded() throws -> TestWebSocketClient {
            switch self {
            case .upgraded(let client, _):
                return client
            case .refused(let status, _, let body):
                throw TestWebSocketClientError.notUpgraded(status: status, body: body)
            }
        }

        /// 101 when upgraded, else the refusal's status.
        var status: Int {
            switch self {
            case .upgraded: return 101
            case .refused(let status, _, _): return status
            }
        }

        /// The response headers, in order, with their names as sent.
        var headers: [(String, String)] {
            switch self {
            case .upgraded(_, let headers): return headers
            case .refused(_, let headers, _): return headers
            }
        }

        /// The first value of a response header (name compared case-insensitively).
        func header(_ name: String) -> String? {
            self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// The underlying NIO channel (for tests that need to go below this API).
    let channel: any Channel
    private let inbox: FrameInbox
    private let closeSent = TestLockedBox(false)

    private init(channel: any Channel, inbox: FrameInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    deinit {
        self.channel.close(promise: nil)
    }

    // MARK: - Connecting

    /// Opens a TCP connection and performs the WebSocket opening handshake for `path`.
    ///
    /// The request carries `Host`, `Upgrade: websocket`, `Connection: Upgrade`, a random
    /// `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13`, then `headers` in order; a header in
    /// `headers` named like one of those defaults (case-insensitively) replaces the default in place.
    /// A 101 response must carry the right `Sec-WebSocket-Accept`, `Upgrade` and `Connection`,
    /// or this throws `TestWebSocketClientError.invalidUpgradeResponse`.
    ///
    /// - Parameters:
    ///   - timeout: bound on TCP connect plus handshake.
    ///   - maxFrameSize: largest frame payload accepted from the server.
    ///   - autoPong: answer each ping with a pong automatically (the ping is still delivered).
    ///   - pipelined: bytes written in the same write as the request, right behind it (a client's first
    ///     frames sent before the 101, as RFC 6455 clients may).
    static func connect(
        host: String = "127.0.0.1",
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        timeout: Duration = .seconds(10),
        maxFrameSize: Int = 256 * 1024 * 1024,
        autoPong: Bool = false,
        tls: NIOSSLContext? = nil,
        serverName: String? = nil,
        pipelined: [UInt8] = []
    ) async throws -> HandshakeResult {
        let request = HandshakeRequest(host: host, port: port, path: path, extraHeaders: headers)
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let outcome = eventLoop.makePromise(of: HandshakeOutcome.self)
        let inbox = FrameInbox(eventLoop: eventLoop)

        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = HandshakeHandler(
                        expectedAccept: request.expectedAccept,
                        maxFrameSize: maxFrameSize,
                        autoPong: autoPong,
                        inbox: inbox,
                        outcome: outcome
                    )
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverName)
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: host, port: port)
            .get()

        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: request.bytes + pipelined)).get()
            switch try await outcome.futureResult.getWithTimeout(timeout, "WebSocket handshake with \(host):\(port)\(path)") {
            case .upgraded(let headers):
                return .upgraded(TestWebSocketClient(channel: channel, inbox: inbox), headers: headers)
            case .refused(let status, let headers, let body):
                try? await channel.close().get()
                return .refused(status: status, headers: headers, body: body)
            }
        } catch {
            try? await channel.close().get()
            throw error
        }
    }

    // MARK: - Sending

    /// Sends one frame. A frame without a mask key gets a random one (clients must mask);
    /// the encoder applies it, so give the payload unmasked. Returns once the frame is written.
    func send(_ frame: WebSocketFrame) async throws {
        var frame = frame
        if frame.maskKey == nil {
            frame.maskKey = .random()
        }
        if frame.opcode == .connectionClose {
            self.closeSent.withLock { $0 = true }
        }
        try await self.channel.writeAndFlush(frame).get()
    }

    func sendText(_ text: String, fin: Bool = true) async throws {
        try await self.send(WebSocketFrame(fin: fin, opcode: .text, data: ByteBuffer(string: text)))
    }

    func sendBinary(_ bytes: some Sequence<UInt8>, fin: Bool = true) async throws {
        try await self.send(WebSocketFrame(fin: fin, opcode: .binary, data: ByteBuffer(bytes: bytes)))
    }

    func sendBinary(_ buffer: ByteBuffer, fin: Bool = true) async throws {
        try await self.send(WebSocketFrame(fin: fin, opcode: .binary, data: buffer))
    }

    func sendContinuation(_ bytes: some Sequence<UInt8>, fin: Bool) async throws {
        try await self.send(WebSocketFrame(fin: fin, opcode: .continuation, data: ByteBuffer(bytes: bytes)))
    }

    /// Sends a close frame: no payload when `code` is nil, else the code and the UTF-8 reason.
    func sendClose(code: UInt16? = 1000, reason: String = "") async throws {
        var payload = ByteBuffer()
        if let code {
            payload.writeInteger(code)
            payload.writeString(reason)
        }
        try await self.send(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload))
    }

    func sendPing(_ bytes: [UInt8] = []) async throws {
        try await self.send(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(bytes: bytes)))
    }

    func sendPong(_ bytes: [UInt8] = []) async throws {
        try await self.send(WebSocketFrame(fin: true, opcode: .pong, data: ByteBuffer(bytes: bytes)))
    }

    /// Writes bytes to the socket exactly as given, bypassing the frame encoder
    /// (for malformed-frame tests). Masking, if wanted, is up to the caller: see `maskedFrameBytes`.
    func sendRaw(_ bytes: [UInt8]) async throws {
        let channel = self.channel
        try await channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            do {
                // Writing from the encoder's context starts *below* the encoder, towards the socket.
                let context = try channel.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
                return context.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: bytes)))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.get()
    }

    /// The wire bytes of one client frame, for `sendRaw`: header (with the 7/16/64-bit length
    /// form chosen by size unless `lengthForm` forces one), mask key when `maskKey` is given, and
    /// the payload masked with it. `rsv` sets the RSV1-3 bits (0...7).
    static func maskedFrameBytes(
        fin: Bool = true,
        rsv: UInt8 = 0,
        opcode: UInt8,
        payload: [UInt8],
        maskKey: [UInt8]? = [0x11, 0x22, 0x33, 0x44],
        lengthForm: LengthForm? = nil
    ) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0x0F)]
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        let form = lengthForm ?? (payload.count < 126 ? .short : payload.count <= 0xFFFF ? .medium : .long)
        switch form {
        case .short:
            bytes.append(maskBit | UInt8(payload.count))
        case .medium:
            bytes.append(maskBit | 126)
            bytes.append(contentsOf: [UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count & 0xFF)])
        case .long:
            bytes.append(maskBit | 127)
            bytes.append(contentsOf: (0..<8).reversed().map { UInt8(UInt64(payload.count) >> (UInt64($0) * 8) & 0xFF) })
        }
        if let maskKey {
            bytes.append(contentsOf: maskKey)
            bytes.append(contentsOf: payload.enumerated().map { $0.element ^ maskKey[$0.offset % 4] })
        } else {
            bytes.append(contentsOf: payload)
        }
        return bytes
    }

    enum LengthForm: Sendable {
        /// 7-bit length in the second byte.
        case short
        /// 126 and a 16-bit length.
        case medium
        /// 127 and a 64-bit length.
        case long
    }

    // MARK: - Receiving

    /// The next frame from the server, exactly as decoded (not aggregated; pings, pongs and close
    /// frames included). A server must not mask, so `maskKey` should be nil; `unmaskedData` is
    /// safe either way. Throws `.timeout` after `timeout`, `.connectionClosed` when the connection
    /// closed and every frame was read, or the decoding error that ended the stream.
    func nextFrame(timeout: Duration = .seconds(10)) async throws -> WebSocketFrame {
        try await self.inbox.next(timeout: timeout)
    }

    /// The next data message, its frames reassembled; pings and pongs in between are skipped.
    /// Throws `.unexpectedClose` when a close frame comes first.
    func receiveMessage(timeout: Duration = .seconds(10)) async throws -> (opcode: WebSocketOpcode, data: ByteBuffer) {
        let deadline = ContinuousClock.now + timeout
        var opcode: WebSocketOpcode?
        var data = ByteBuffer()
        while true {
            let frame = try await self.nextFrame(timeout: deadline - ContinuousClock.now)
            var payload = frame.unmaskedData
            switch frame.opcode {
            case .ping, .pong:
                continue
            case .connectionClose:
                let (code, reason) = Self.parseClosePayload(payload)
                throw TestWebSocketClientError.unexpectedClose(code: code, reason: reason)
            case .text, .binary:
                guard opcode == nil else {
                    throw TestWebSocketClientError.unexpectedFrame("a new \(frame.opcode) frame inside a fragmented message")
                }
                opcode = frame.opcode
            case .continuation:
                guard opcode != nil else {
                    throw TestWebSocketClientError.unexpectedFrame("a continuation frame outside a fragmented message")
                }
            default:
                throw TestWebSocketClientError.unexpectedFrame("a frame with opcode \(frame.opcode)")
            }
            data.writeBuffer(&payload)
            if frame.fin, let opcode {
                return (opcode, data)
            }
        }
    }

    /// The next data message, which must be a text message; returned as a String.
    func receiveText(timeout: Duration = .seconds(10)) async throws -> String {
        let (opcode, data) = try await self.receiveMessage(timeout: timeout)
        guard opcode == .text else {
            throw TestWebSocketClientError.unexpectedFrame("a \(opcode) message where text was expected")
        }
        return String(buffer: data)
    }

    /// Reads frames (dropping data frames) until a close frame, answers it with a close frame
    /// carrying the same code unless this client already sent one, then waits for the server to
    /// close the TCP connection. Returns the received close code (nil: empty payload) and reason.
    func waitForClose(timeout: Duration = .seconds(10)) async throws -> (code: UInt16?, reason: String) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let frame = try await self.nextFrame(timeout: deadline - ContinuousClock.now)
            guard frame.opcode == .connectionClose else { continue }
            let (code, reason) = Self.parseClosePayload(frame.unmaskedData)
            if !self.closeSent.withLock({ $0 }) {
                try? await self.sendClose(code: code)  // the server may already have closed TCP
            }
            try await self.waitForTCPClose(timeout: deadline - ContinuousClock.now)
            return (code, reason)
        }
    }

    /// Waits until the TCP connection is closed (by either side). Frames that arrive in the
    /// meantime stay available to `nextFrame()`.
    func waitForTCPClose(timeout: Duration = .seconds(10)) async throws {
        try await self.channel.closeFuture.getWithTimeout(timeout, "TCP close")
    }

    /// Closes the TCP connection now, without a closing handshake.
    func close() async {
        try? await self.channel.close().get()
    }

    /// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 section 4.2.2).
    static func acceptValue(forKey key: String) -> String {
        HandshakeRequest.acceptValue(forKey: key)
    }

    static func parseClosePayload(_ payload: ByteBuffer) -> (code: UInt16?, reason: String) {
        var payload = payload
        guard let code = payload.readInteger(as: UInt16.self) else { return (nil, "") }
        return (code, String(buffer: payload))
    }

    // MARK: - Raw HTTP

    /// Writes `request` as-is to host:port and returns everything the server sends until it
    /// closes the connection or `timeout` passes (then the connection is closed and what was read
    /// so far is returned). For tests of refused or malformed handshakes (400, 426, ...).
    /// With `tls`, over TLS (SNI `localhost`).
    static func rawHTTPRequest(
        host: String = "127.0.0.1",
        port: Int,
        request: String,
        tls: NIOSSLContext? = nil,
        timeout: Duration = .seconds(10)
    ) async throws -> String {
        let bytes = try await self.rawRequest(host: host, port: port, bytes: Array(request.utf8), tls: tls, timeout: timeout)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Like `rawHTTPRequest` with bytes in and out.
    static func rawRequest(
        host: String = "127.0.0.1",
        port: Int,
        bytes: [UInt8],
        tls: NIOSSLContext? = nil,
        timeout: Duration = .seconds(10)
    ) async throws -> [UInt8] {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let received = eventLoop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: "localhost")
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(CollectUntilCloseHandler(received: received))
                }
            }
            .connect(host: host, port: port)
            .get()
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)  // CollectUntilCloseHandler then completes with what it has
        }
        defer { timer.cancel() }
        // If the server closed first, the write fails: still return what it sent.
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        return try await received.futureResult.get()
    }
}

enum TestWebSocketClientError: Error, CustomStringConvertible {
    case timeout(String)
    case connectionClosed
    case notUpgraded(status: Int, body: String)
    case handshakeFailed(String)
    case invalidUpgradeResponse(String)
    case unexpectedClose(code: UInt16?, reason: String)
    case unexpectedFrame(String)
    case concurrentRead

    var description: String {
        switch self {
        case .timeout(let what): return "timed out waiting for \(what)"
        case .connectionClosed: return "the connection is closed and no frames are left"
        case .notUpgraded(let status, let body): return "the server refused the upgrade: \(status) \(body)"
        case .handshakeFailed(let why): return "handshake failed: \(why)"
        case .invalidUpgradeResponse(let why): return "invalid 101 response: \(why)"
        case .unexpectedClose(let code, let reason):
            return "unexpected close frame (code \(code.map(String.init) ?? "none"), reason \"\(reason)\")"
        case .unexpectedFrame(let what): return "unexpected frame: \(what)"
        case .concurrentRead: return "two tasks read from the same TestWebSocketClient at once"
        }
    }
}

extension EventLoopFuture where Value: Sendable {
    /// `get()` that throws `TestWebSocketClientError.timeout(what)` after `timeout`.
    func getWithTimeout(_ timeout: Duration, _ what: String) async throws -> Value {
        let promise = self.eventLoop.makePromise(of: Value.self)
        let timer = self.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(TestWebSocketClientError.timeout(what))  // a promise keeps its first result
        }
        self.whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        return try await promise.futureResult.get()
    }
}

/// Collects all bytes read until the connection closes.
private final class CollectUntilCloseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let received: EventLoopPromise<[UInt8]>
    private var bytes: [UInt8] = []

    init(received: EventLoopPromise<[UInt8]>) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = self.unwrapInboundIn(data)
        self.bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.received.succeed(self.bytes)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // e.g. connection reset: return what was read
    }
}
