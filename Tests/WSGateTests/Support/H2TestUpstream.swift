import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import NIOWebSocket

/// An in-process HTTP/2 WebSocket upstream (RFC 8441) on 127.0.0.1, for the `websocket-h2` tests:
/// NIOHTTP2 for the connection and NIO's own WebSocket codec for the frames.
///
/// It echoes text and binary messages; a text message `reset` makes it reset that stream
/// (RST_STREAM); `close:CODE` makes it close with CODE; `flood:N` makes it send N binary messages
/// of 16 KiB (queued in the server whatever the flow control). A request for `/status/NNN` is answered
/// NNN. It can cap `SETTINGS_MAX_CONCURRENT_STREAMS`, leave out `SETTINGS_ENABLE_CONNECT_PROTOCOL`,
/// send GOAWAY on every connection, and be started on a port chosen in advance.
final class H2TestUpstream: Sendable {
    struct Options: Sendable {
        var maxConcurrentStreams: Int?
        var enableConnectProtocol = true
        /// Answer stream 1 of every connection with 400 (the quirk reported of hypercorn with h2c
        /// prior knowledge).
        var rejectFirstStream = false
        /// Reset this many streams (the first ones, over all connections) with REFUSED_STREAM.
        var refuseStreams = 0
        /// Serve TLS with this certificate and key (PEM paths), offering ALPN `h2` only.
        var tls: (certificate: String, key: String)?
    }

    private struct State {
        var connections: [ObjectIdentifier: any Channel] = [:]
        var acceptedConnections = 0
        var streams = 0
        var maxStreamBytesSent = 0
        var refusalsLeft = 0
        var negotiatedProtocols: [String?] = []
    }

    let port: Int
    private let channel: any Channel
    private let state: NIOLockedValueBox<State>

    private init(port: Int, channel: any Channel, state: NIOLockedValueBox<State>) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// TCP connections accepted since start.
    var acceptedConnections: Int { self.state.withLockedValue { $0.acceptedConnections } }
    /// TCP connections open now.
    var openConnections: Int { self.state.withLockedValue { $0.connections.count } }
    /// Extended CONNECT streams received since start.
    var streams: Int { self.state.withLockedValue { $0.streams } }
    /// The ALPN protocol of each TLS connection.
    var negotiatedProtocols: [String?] { self.state.withLockedValue { $0.negotiatedProtocols } }
    /// The most bytes any one stream has written to the socket: what HTTP/2 flow control let through.
    var maxStreamBytesSent: Int { self.state.withLockedValue { $0.maxStreamBytesSent } }

    static func start(port: Int = 0, options: Options = Options()) async throws -> H2TestUpstream {
        let state = NIOLockedValueBox(State(refusalsLeft: options.refuseStreams))
        let rejectFirstStream = options.rejectFirstStream
        var settings: [HTTP2Setting] = [HTTP2Setting(parameter: .maxHeaderListSize, value: 16 * 1024)]
        if let limit = options.maxConcurrentStreams {
            settings.append(HTTP2Setting(parameter: .maxConcurrentStreams, value: limit))
        }
        if options.enableConnectProtocol {
            settings.append(HTTP2Setting(parameter: .enableConnectProtocol, value: 1))
        }
        let initialSettings = settings
        let tlsContext = try options.tls.map { tls in
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem))
            )
            configuration.applicationProtocols = ["h2"]
            return try NIOSSLContext(configuration: configuration)
        }
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                state.withLockedValue {
                    $0.connections[id] = channel
                    $0.acceptedConnections += 1
                }
                channel.closeFuture.whenComplete { _ in
                    state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
                }
                if let tlsContext {
                    do {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        try channel.pipeline.syncOperations.addHandler(
                            ALPNRecorder { negotiated in
                                state.withLockedValue { $0.negotiatedProtocols.append(negotiated) }
                            }
                        )
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                return channel.configureHTTP2Pipeline(mode: .server, initialLocalSettings: initialSettings) { stream in
                    stream.eventLoop.makeCompletedFuture {
                        let sync = stream.pipeline.syncOperations
                        let streamID = try stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID)
                        try sync.addHandler(
                            ServerStreamHandler(
                                rejection: rejectFirstStream && streamID == 1 ? .badRequest : nil,
                                takeRefusal: {
                                    state.withLockedValue { state in
                                        guard state.refusalsLeft > 0 else { return false }
                                        state.refusalsLeft -= 1
                                        return true
                                    }
                                },
                                onRequest: { state.withLockedValue { $0.streams += 1 } },
                                onSent: { total in
                                    state.withLockedValue { $0.maxStreamBytesSent = max($0.maxStreamBytesSent, total) }
                                }
                            )
                        )
                        try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 24)))
                        try sync.addHandler(WebSocketFrameEncoder())
                        try sync.addHandler(EchoHandler())
                    }
                }.map { _ in }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return H2TestUpstream(port: channel.localAddress?.port ?? 0, channel: channel, state: state)
    }

    /// A port that was free a moment ago (for an upstream that starts after the gateway).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    /// Sends GOAWAY (no error, last stream = the highest one seen) on every open connection.
    func goAwayAll() async throws {
        let connections = self.state.withLockedValue { Array($0.connections.values) }
        for connection in connections {
            try await connection.eventLoop.flatSubmit {
                connection.writeAndFlush(
                    HTTP2Frame(
                        streamID: .rootStream,
                        payload: .goAway(lastStreamID: .maxID, errorCode: .noError, opaqueData: nil)
                    )
                )
            }.get()
        }
    }

    func stop() async {
        try? await self.channel.close()
        for connection in self.state.withLockedValue({ Array($0.connections.values) }) {
            try? await connection.close()
        }
    }
}

/// Records the protocol ALPN settled on.
private final class ALPNRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let record: @Sendable (String?) -> Void

    init(record: @escaping @Sendable (String?) -> Void) {
        self.record = record
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            self.record(negotiated)
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The server side of one extended CONNECT stream: answers the request, then turns DATA into bytes
/// for NIO's WebSocket codec and back.
private final class ServerStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    enum Rejection {
        case badRequest
    }

    private let rejection: Rejection?
    private let takeRefusal: @Sendable () -> Bool
    private let onRequest: @Sendable () -> Void
    private let onSent: @Sendable (Int) -> Void
    private var answered = false
    private var sentEndStream = false
    private var sent = 0

    init(
        rejection: Rejection?,
        takeRefusal: @escaping @Sendable () -> Bool,
        onRequest: @escaping @Sendable () -> Void,
        onSent: @escaping @Sendable (Int) -> Void
    ) {
        self.rejection = rejection
        self.takeRefusal = takeRefusal
        self.onRequest = onRequest
        self.onSent = onSent
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .headers(let headers) where !self.answered:
            self.answered = true
            self.onRequest()
            if self.takeRefusal() {
                context.writeAndFlush(self.wrapOutboundOut(.rstStream(.refusedStream)), promise: nil)
                return
            }
            if self.rejection == .badRequest {
                self.respond(status: "400", endStream: true, context: context)
                return
            }
            let path = headers.headers.first(name: ":path") ?? "/"
            guard headers.headers.first(name: ":method") == "CONNECT", headers.headers.first(name: ":protocol") == "websocket"
            else {
                self.respond(status: "400", endStream: true, context: context)
                return
            }
            if path.hasPrefix("/status/") {
                self.respond(status: String(path.dropFirst("/status/".count)), endStream: true, context: context)
                return
            }
            var response = HPACKHeaders([(":status", "200")])
            if let offered = headers.headers.first(name: "sec-websocket-protocol")?.split(separator: ",").last {
                response.add(name: "sec-websocket-protocol", value: offered.trimmingCharacters(in: .whitespaces))
            }
            context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: response))), promise: nil)
        case .data(let data):
            if case .byteBuffer(let buffer) = data.data, buffer.readableBytes > 0 {
                context.fireChannelRead(self.wrapInboundOut(buffer))
            }
            if data.endStream { self.endStream(context: context) }
        default:
            break
        }
    }

    private func respond(status: String, endStream: Bool, context: ChannelHandlerContext) {
        context.writeAndFlush(
            self.wrapOutboundOut(.headers(.init(headers: HPACKHeaders([(":status", status)]), endStream: endStream))),
            promise: nil
        )
        self.sentEndStream = endStream
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = self.unwrapOutboundIn(data)
        // The promise completes when the DATA frame reaches the socket, i.e. once flow control let it go.
        let written = promise ?? context.eventLoop.makePromise()
        let size = buffer.readableBytes
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenSuccess {
            let handler = handler.value
            handler.sent += size
            handler.onSent(handler.sent)
        }
        context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(buffer)))), promise: written)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event as? EchoHandler.EndStream == .now {
            self.endStream(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func endStream(context: ChannelHandlerContext) {
        guard !self.sentEndStream else { return }
        self.sentEndStream = true
        context.writeAndFlush(self.wrapOutboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))), promise: nil)
    }
}

/// Echoes messages frame by frame; answers pings and closes; obeys `reset` and `close:CODE`.
private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    enum EndStream {
        case now
    }

    private var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = self.unwrapInboundIn(data)
        let payload = frame.unmaskedData
        switch frame.opcode {
        case .text where String(buffer: payload) == "reset":
            context.close(promise: nil)  // RST_STREAM (CANCEL) on this stream only
        case .text where String(buffer: payload).hasPrefix("close:"):
            let code = UInt16(String(buffer: payload).dropFirst("close:".count)) ?? 1000
            var body = context.channel.allocator.buffer(capacity: 2)
            body.writeInteger(code)
            self.closing = true
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: body)),
                promise: nil
            )
        case .text where String(buffer: payload).hasPrefix("flood:"):
            let count = Int(String(buffer: payload).dropFirst("flood:".count)) ?? 0
            let chunk = ByteBuffer(repeating: 0xA5, count: 16 * 1024)
            for _ in 0..<count {
                context.write(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: chunk)), promise: nil)
            }
            context.flush()
        case .text, .binary, .continuation:
            frame.maskKey = nil
            context.writeAndFlush(
                self.wrapOutboundOut(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: payload)),
                promise: nil
            )
        case .ping:
            context.writeAndFlush(self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        case .connectionClose:
            if !self.closing {
                context.write(
                    self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)),
                    promise: nil
                )
            }
            // The close handshake is done: end the stream (the "TCP close" of RFC 8441).
            context.pipeline.fireUserInboundEventTriggered(EndStream.now)
        default:
            break
        }
    }
}
