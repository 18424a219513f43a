import NIOCore
import NIOHTTP1
import NIOSSL

/// The one owner of an upstream leg's handlers and their names, for both transports: what the
/// handshake needs on a new connection or stream, and how those handlers give way to the session's.
///
///     TCP connection → [TLS] → HTTP/1.1 encoder, decoder → UpstreamHandshakeHandler   (configureConnection)
///     HTTP/2 stream → ExtendedConnectStreamHandler → HTTP2StreamTunnelHandler          (configureStream)
///     answer read → HTTP/1.1 codec retired (retireHTTPCodec) → session handlers added
///       → handshake handler leaves, handing on what came with the answer (finishHandOver)
enum UpstreamPipeline {
    private enum Name {
        static let tls = "upstream-tls"
        static let encoder = "upstream-http-encoder"
        static let decoder = "upstream-http-decoder"
        static let handshake = "upstream-handshake"
    }

    /// A one-to-one upstream connection, before its HTTP/1.1 upgrade.
    static func configureConnection(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        tls: NIOSSLClientHandler?,
        handshake: UpstreamHandshakeHandler
    ) throws {
        if let tls {
            try pipeline.addHandler(tls, name: Name.tls)
        }
        try pipeline.addHandler(HTTPRequestEncoder(), name: Name.encoder)
        try pipeline.addHandler(
            ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)),
            name: Name.decoder
        )
        try pipeline.addHandler(handshake, name: Name.handshake)
    }

    /// An HTTP/2 stream, before its extended CONNECT (RFC 8441). The opening leaves at the 2xx; the
    /// tunnel stays for the session: it is the framing between DATA frames and bytes.
    static func configureStream(_ pipeline: ChannelPipeline.SynchronousOperations, handshake: ExtendedConnectStreamHandler) throws
    {
        try pipeline.addHandler(handshake)
        try pipeline.addHandler(HTTP2StreamTunnelHandler(forwarding: false))
    }

    /// Takes the HTTP/1.1 codec out of the pipeline; the future completes once the decoder has handed
    /// the bytes it read past the 101 to the handshake handler, which keeps them. Nothing but the
    /// handshake may be written to the leg before then: a frame would reach the HTTP codec.
    static func retireHTTPCodec(
        _ pipeline: ChannelPipeline.SynchronousOperations,
        transport: UpstreamTransport,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        switch transport {
        case .http1:
            pipeline.removeHandler(name: Name.encoder, promise: nil)
            return pipeline.removeHandler(name: Name.decoder)
        case .http2Stream:
            return eventLoop.makeSucceededVoidFuture()
        }
    }

    /// Retires the handshake handler once the session's handlers sit behind it: it hands on what
    /// arrived with the handshake answer.
    static func finishHandOver(_ pipeline: ChannelPipeline.SynchronousOperations, transport: UpstreamTransport) {
        switch transport {
        case .http1:
            pipeline.removeHandler(name: Name.handshake, promise: nil)
        case .http2Stream:
            (try? pipeline.handler(type: HTTP2StreamTunnelHandler.self))?.startForwarding()
        }
    }
}
