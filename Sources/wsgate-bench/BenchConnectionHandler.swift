import NIOCore

/// One load-generator connection: sends the upgrade request, checks for `101`, then plays its
/// role (echo messages, stay idle, or stall) and counts into its loop's `LoopRecorder`. On an
/// HTTP/2 stream (`--http2`) the `BenchHTTP2StreamHandler` in front does the handshake instead and
/// sends its answer as a `HandshakeAnswer` event; the frames are the same.
///
/// The client side is written by hand (raw bytes in, raw bytes out) rather than with NIO's
/// WebSocket client upgrader, so the cost per message on the client is a retained buffer write
/// and a header parse, identical whatever the server.
final class BenchConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the connection does once upgraded.
    enum Role {
        /// Keep `window` messages in flight: send `message` (a pre-masked frame carrying
        /// `payloadSize` bytes) again each time an echo comes back, timing each round trip.
        /// `compressed` is the same message with permessage-deflate, sent instead when the server
        /// accepted the extension.
        case echo(message: ByteBuffer, compressed: ByteBuffer?, payloadSize: Int, window: Int)
        /// Send nothing; answer pings.
        case idle
        /// Never read after the upgrade (a client whose app stopped reading).
        case stalled
    }

    /// The handshake's outcome when the transport does it (an HTTP/2 stream's `:status`).
    enum HandshakeAnswer {
        case accepted(deflateNegotiated: Bool)
        case refused(String)
    }

    private enum State {
        case handshaking(response: ByteBuffer?)
        case open
        case closed
    }

    /// Largest upgrade response accepted.
    private static let maximumResponseSize = 16 * 1024

    private let role: Role
    /// The HTTP/1.1 upgrade request; nil when the transport does the handshake.
    private let request: ByteBuffer?
    private let recorder: LoopRecorder
    private let upgraded: EventLoopPromise<Void>
    private let handshakeTimeout: TimeAmount
    private let maskKey: UInt32
    private var state = State.handshaking(response: nil)
    private var context: ChannelHandlerContext?
    private var timeout: Scheduled<Void>?
    private var reader = ServerFrameReader()
    /// Bytes of a partial frame header or control frame, kept for the next read.
    private var pending: ByteBuffer?
    private var messageBytes = 0
    private var needsFlush = false
    /// Send times of the messages in flight, oldest first (a ring of `window` slots).
    private var sendTimes: [UInt64] = []
    private var oldest = 0
    private var inFlight = 0
    /// Whether the server's 101 accepted permessage-deflate.
    private var deflateNegotiated = false

    init(
        role: Role,
        request: ByteBuffer?,
        recorder: LoopRecorder,
        upgraded: EventLoopPromise<Void>,
        handshakeTimeout: TimeAmount,
        maskKey: UInt32
    ) {
        self.role = role
        self.request = request
        self.recorder = recorder
        self.upgraded = upgraded
        self.handshakeTimeout = handshakeTimeout
        self.maskKey = maskKey
        if case .echo(_, _, _, let window) = role {
            self.sendTimes = Array(repeating: 0, count: window)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let request = self.request {
            context.writeAndFlush(self.wrapOutboundOut(request), promise: nil)
        }
        self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: self.handshakeTimeout) {
            self.failHandshake("no upgrade response within \(self.handshakeTimeout)")
        }
        context.fireChannelActive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        switch self.state {
        case .handshaking(var response):
            if response == nil {
                response = bytes
            } else {
                response!.writeBuffer(&bytes)
            }
            self.handshakeBytesArrived(response!)
        case .open:
            self.framesArrived(bytes)
        case .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
    }

    private func handshakeBytesArrived(_ response: ByteBuffer) {
        let view = response.readableBytesView
        guard let end = view.firstRange(of: [13, 10, 13, 10]) else {
            if response.readableBytes > Self.maximumResponseSize {
                self.failHandshake("upgrade response over \(Self.maximumResponseSize) bytes")
            } else {
                self.state = .handshaking(response: response)
            }
            return
        }
        let headLength = end.upperBound - view.startIndex
        var rest = response
        let head = rest.readString(length: headLength) ?? ""
        guard head.hasPrefix("HTTP/1.1 101") else {
            // The status line, and the start of the body, which usually says why.
            let statusLine = head.split(separator: "\r\n", maxSplits: 1).first ?? ""
            let body = rest.readString(length: min(rest.readableBytes, 160)) ?? ""
            self.failHandshake("upgrade refused: \(statusLine) \(body.debugDescription)")
            return
        }
        self.opened(deflateNegotiated: head.lowercased().contains("\r\nsec-websocket-extensions: permessage-deflate"))
        if rest.readableBytes > 0 {
            self.framesArrived(rest)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let answer = event as? HandshakeAnswer, case .handshaking = self.state else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch answer {
        case .accepted(let deflateNegotiated):
            self.opened(deflateNegotiated: deflateNegotiated)
        case .refused(let reason):
            self.failHandshake(reason)
        }
    }

    private func opened(deflateNegotiated: Bool) {
        self.timeout?.cancel()
        self.timeout = nil
        self.state = .open
        self.deflateNegotiated = deflateNegotiated
        self.recorder.register(self, deflateNegotiated: deflateNegotiated)
        if case .stalled = self.role {
            // Stop reading for good: the kernel buffers (or the stream's window) fill and the
            // server must hold back.
            try? self.context?.channel.syncOptions?.setOption(.autoRead, value: false)
        }
        self.upgraded.succeed()
    }

    private func failHandshake(_ reason: String) {
        guard case .handshaking = self.state else { return }
        self.timeout?.cancel()
        self.timeout = nil
        self.state = .closed
        self.upgraded.fail(BenchError.handshakeFailed(reason))
        self.context?.close(promise: nil)
    }

    private func framesArrived(_ bytes: ByteBuffer) {
        if case .stalled = self.role { return }
        var buffer: ByteBuffer
        if var pending = self.pending {
            var bytes = bytes
            pending.writeBuffer(&bytes)
            buffer = pending
            self.pending = nil
        } else {
            buffer = bytes
        }
        while case .open = self.state, let event = self.reader.next(from: &buffer) {
            switch event {
            case .payload(let count):
                self.messageBytes += count
            case .messageEnd:
                self.messageArrived()
            case .ping(let payload):
                let pong = ClientFrames.pong(payload: payload, maskKey: self.maskKey, allocator: self.context!.channel.allocator)
                self.context?.write(self.wrapOutboundOut(pong), promise: nil)
                self.needsFlush = true
            case .pong:
                break
            case .close:
                self.closedByServer("server sent a close frame")
            case .violation(let what):
                self.recorder.recordError("protocol: \(what)")
                self.state = .closed
                self.context?.close(promise: nil)
            }
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            self.pending = buffer
        }
    }

    private func messageArrived() {
        guard case .echo = self.role, self.inFlight > 0 else {
            self.messageBytes = 0
            return
        }
        let now = NIODeadline.now().uptimeNanoseconds
        let sentAt = self.sendTimes[self.oldest]
        self.oldest = (self.oldest + 1) % self.sendTimes.count
        self.inFlight -= 1
        self.recorder.recordMessage(payloadBytes: self.messageBytes, latency: now - sentAt)
        self.messageBytes = 0
        switch self.recorder.phase {
        case .warmingUp, .measuring:
            self.sendMessage()
            self.needsFlush = true
        case .connecting, .stopped:
            break
        }
    }

    private func sendMessage() {
        guard case .echo(let plain, let compressed, _, _) = self.role else { return }
        let message = self.deflateNegotiated ? (compressed ?? plain) : plain
        let slot = (self.oldest + self.inFlight) % self.sendTimes.count
        self.sendTimes[slot] = NIODeadline.now().uptimeNanoseconds
        self.inFlight += 1
        self.context?.write(self.wrapOutboundOut(message), promise: nil)
    }

    // MARK: Driven by the recorder

    /// Starts sending (echo role): fills the window.
    func start() {
        guard case .open = self.state, case .echo(_, _, _, let window) = self.role else { return }
        for _ in 0..<window {
            self.sendMessage()
        }
        self.context?.flush()
    }

    /// Sends a close frame (1000) and closes the connection without waiting for the answer.
    func finish() {
        guard case .open = self.state, let context = self.context else { return }
        self.state = .closed
        let close = ClientFrames.close(maskKey: self.maskKey, allocator: context.channel.allocator)
        context.writeAndFlush(self.wrapOutboundOut(close), promise: nil)
        context.close(promise: nil)
    }

    // MARK: Teardown

    private func closedByServer(_ reason: String) {
        guard case .open = self.state else { return }
        self.state = .closed
        if self.recorder.phase != .stopped {
            if case .stalled = self.role {
                self.recorder.recordStalledClosed()
            } else {
                self.recorder.recordError(reason)
            }
        }
        self.context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .handshaking:
            self.failHandshake("connection closed during the handshake")
        case .open:
            self.closedByServer("connection closed by the server")
        case .closed:
            break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch self.state {
        case .handshaking:
            self.failHandshake("\(error)")
        case .open:
            self.closedByServer("\(error)")
        case .closed:
            break
        }
    }
}

@available(*, unavailable)
extension BenchConnectionHandler: Sendable {}
