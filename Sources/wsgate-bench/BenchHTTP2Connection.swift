import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// A TLS connection negotiated to `h2` whose streams carry load-generator WebSockets (`--http2`),
/// as a browser opens them: extended CONNECT streams (RFC 8441), each with a
/// `BenchHTTP2StreamHandler` in front of its `BenchConnectionHandler`.
struct BenchHTTP2Connection: Sendable {
    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    /// The server's first `SETTINGS_MAX_CONCURRENT_STREAMS` (nil: no limit announced).
    let maxConcurrentStreams: Int?

    /// Windows about as large as a browser's (Chrome: 6 MiB a stream, 15 MiB the connection), so
    /// flow control does not hold back what a TCP connection of its own would take.
    private static let streamWindow = 6 << 20
    private static let connectionWindow = 15 << 20

    /// Connects on `loop`; returns once the server's first SETTINGS allowed extended CONNECT
    /// (RFC 8441 section 3), or throws.
    static func connect(
        host: String,
        port: Int,
        tls: NIOSSLContext,
        on loop: any EventLoop,
        timeout: TimeAmount
    ) async throws -> Self {
        let ready = loop.makePromise(of: Int?.self)
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    var connection = NIOHTTP2Handler.ConnectionConfiguration()
                    connection.initialSettings = [
                        HTTP2Setting(parameter: .enablePush, value: 0),
                        HTTP2Setting(parameter: .initialWindowSize, value: Self.streamWindow),
                    ]
                    connection.targetWindowSize = Self.connectionWindow
                    var streams = NIOHTTP2Handler.StreamConfiguration()
                    streams.targetWindowSize = Self.streamWindow
                    try sync.addHandler(
                        NIOHTTP2Handler(
                            mode: .client,
                            eventLoop: channel.eventLoop,
                            connectionConfiguration: connection,
                            streamConfiguration: streams,
                            inboundStreamInitializer: { stream in stream.close() }
                        )
                    )
                    try sync.addHandler(SettingsWaiter(ready: ready))
                }
            }
            .connect(host: host, port: port)
        connected.whenFailure { ready.fail($0) }
        let timer = loop.scheduleTask(in: timeout) {
            ready.fail(BenchError.handshakeFailed("no HTTP/2 SETTINGS within \(timeout)"))
        }
        defer { timer.cancel() }
        let channel = try await connected.get()
        let maxConcurrentStreams: Int?
        do {
            maxConcurrentStreams = try await ready.futureResult.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        let multiplexer = try await loop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
        }.get()
        return Self(channel: channel, multiplexer: multiplexer, maxConcurrentStreams: maxConcurrentStreams)
    }

    /// Behind the `NIOHTTP2Handler`, which passes on the connection's own frames: succeeds `ready`
    /// on the server's first SETTINGS (with its MAX_CONCURRENT_STREAMS) if they enable extended
    /// CONNECT, fails it otherwise.
    private final class SettingsWaiter: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame

        private var ready: EventLoopPromise<Int?>?

        init(ready: EventLoopPromise<Int?>) {
            self.ready = ready
        }

        private func complete(_ result: Result<Int?, BenchError>) {
            guard let ready = self.ready else { return }
            self.ready = nil
            ready.completeWith(result.mapError { $0 as any Error })
        }

        private func complete(_ failure: String) {
            self.complete(.failure(.handshakeFailed(failure)))
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .settings(.settings(let settings)) = self.unwrapInboundIn(data).payload {
                if settings.last(where: { $0.parameter == .enableConnectProtocol })?.value == 1 {
                    self.complete(.success(settings.last { $0.parameter == .maxConcurrentStreams }?.value))
                } else {
                    self.complete("the server's SETTINGS do not enable extended CONNECT")
                }
            }
            context.fireChannelRead(data)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted(let negotiated) = event as? TLSUserEvent, negotiated != "h2" {
                self.complete("ALPN gave \(negotiated ?? "no protocol"), not h2 (is http2 enabled on the listener?)")
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            self.complete("\(error)")
            context.fireErrorCaught(error)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.complete("connection closed before the server's SETTINGS")
            context.fireChannelInactive()
        }
    }
}
