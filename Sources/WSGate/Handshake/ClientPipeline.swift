import NIOCore
import NIOHTTP1
import NIOSSL

/// The one owner of a client connection's pipeline and its handler names, from accept to session:
///
///     accept → [tls] → head limit → HTTP decoder + encoder → handshake       (``configure(_:tls:maxHeaderBytes:handshake:)``)
///     101 written → HTTP codecs retired on both legs                         (``retireHTTPCodecs(client:upstream:on:)``)
///     or, a plain HTTP request: pipelining + HTTP proxy handlers replace the handshake
///                                                                            (``startHTTPProxy(handshake:head:proxy:)``)
///     session handlers added behind the handshake, handshake handlers leave  (``startSession(handshake:upstream:route:path:compression:environment:)``)
///
/// The session-phase handlers of each leg are the session's (``ProxySession/start(client:upstream:upstreamEndpoint:subprotocol:route:path:compression:environment:)``);
/// the upstream channel's handshake handlers are the upstream opener's (``UpstreamTransport``).
enum ClientPipeline {
    /// Names of the client connection's handlers before the upgrade.
    enum Names {
        static let tls = "tls"
        static let headLimit = "http-head-limit"
        static let decoder = "http-decoder"
        static let encoder = "http-encoder"
        static let handshake = "client-handshake"
        static let pipelining = "http-pipelining"
        static let proxy = "http-proxy"
    }

    /// Sets up a just accepted connection for its handshake. `tls` is the listener's context on a TLS
    /// listener (the connection never sees plain text then).
    static func configure(
        _ channel: any Channel,
        tls: NIOSSLContext?,
        maxHeaderBytes: Int,
        handshake: ClientHandshakeHandler
    ) throws {
        let sync = channel.pipeline.syncOperations
        if let tls {
            try sync.addHandler(NIOSSLServerHandler(context: tls), name: Names.tls)
        }
        try sync.addHandler(RequestHeadLimitHandler(maxHeaderBytes: maxHeaderBytes), name: Names.headLimit)
        // The limit of every request head after the first (which the head limit handler bounds).
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = maxHeaderBytes
        limits.maxHeaderFieldSize = maxHeaderBytes
        try sync.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes, limitConfiguration: limits)),
            name: Names.decoder
        )
        // Every answer is framed by its writer (``HTTPAnswer``, the 101, ``HTTPResponsePlan``).
        var encoding = HTTPResponseEncoder.Configuration()
        encoding.automaticallySetFramingHeaders = false
        try sync.addHandler(HTTPResponseEncoder(configuration: encoding), name: Names.encoder)
        try sync.addHandler(handshake, name: Names.handshake)
    }

    /// A plain HTTP request on the connection (``ClientHandshakeStateMachine/Action/proxyHTTP(_:)``):
    /// NIO's pipelining handler (one request at a time, answered in order) and the HTTP proxy join
    /// behind the handshake handler, which hands them the request head and leaves; the rest of the
    /// request flows to them from the decoder.
    ///
    /// - Parameter handshake: the context of the client's ``ClientHandshakeHandler``.
    static func startHTTPProxy(handshake: ChannelHandlerContext, head: HTTPRequestHead, proxy: HTTPProxyHandler) throws {
        let sync = handshake.pipeline.syncOperations
        let pipelining = HTTPServerPipelineHandler()
        try sync.addHandler(pipelining, name: Names.pipelining, position: .after(handshake.handler))
        try sync.addHandler(proxy, name: Names.proxy, position: .after(pipelining))
        handshake.fireChannelRead(NIOAny(HTTPServerRequestPart.head(head)))
        sync.removeHandler(context: handshake, promise: nil)
    }

    /// First step of the hand-over, right after the 101 was written: takes the HTTP/1.1 codecs out of
    /// both legs. The future completes once each decoder has handed the bytes it read past the
    /// handshake to its handshake handler, which keeps them (``HandshakeLeftovers``); only then may
    /// frames be written to either leg.
    static func retireHTTPCodecs(
        client: ChannelPipeline.SynchronousOperations,
        upstream link: UpstreamLink,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        client.removeHandler(name: Names.encoder, promise: nil)
        let clientDecoder = client.removeHandler(name: Names.decoder)
        guard let channel = link.channel else { return clientDecoder }
        let upstreamDecoder = UpstreamPipeline.retireHTTPCodec(
            channel.pipeline.syncOperations,
            transport: link.transport,
            on: eventLoop
        )
        return clientDecoder.and(upstreamDecoder).map { _ in }
    }

    /// Last step of the hand-over, once ``retireHTTPCodecs(client:upstream:on:)`` is done: starts the
    /// session on both legs, then retires the handshake handlers, the upstream's first, so that what
    /// the client pipelined finds both legs ready; each hands on what its peer sent right after its
    /// handshake, and the reads held back are issued. A leg that closed meanwhile closes the other.
    ///
    /// - Parameter handshake: the context of the client's ``ClientHandshakeHandler``.
    static func startSession(
        handshake: ChannelHandlerContext,
        upstream link: UpstreamLink,
        route: RouteConfiguration,
        path: String,
        compression: PerMessageDeflateAgreement?,
        environment: SessionEnvironment,
        auth: AuthAdmission? = nil
    ) throws {
        let client = handshake.channel
        guard client.isActive, link.channel?.isActive ?? true else {
            auth?.lease?.release()
            client.close(promise: nil)
            link.channel?.close(promise: nil)
            return
        }
        try ProxySession.start(
            client: client,
            upstream: try self.sessionUpstream(link),
            upstreamEndpoint: link.endpoint,
            subprotocol: link.subprotocol,
            route: route,
            path: path,
            compression: compression,
            environment: environment,
            auth: auth
        )
        if let upstreamChannel = link.channel {
            UpstreamPipeline.finishHandOver(upstreamChannel.pipeline.syncOperations, transport: link.transport)
            upstreamChannel.read()
        }
        handshake.pipeline.syncOperations.removeHandler(context: handshake, promise: nil)
        client.read()
    }

    /// The upstream as the session takes it: its channel (a socket, or an HTTP/2 stream whose stream
    /// handler counts its queued bytes), or the built-in echo, which has none.
    private static func sessionUpstream(_ link: UpstreamLink) throws -> SessionUpstream {
        guard let channel = link.channel else { return .echo }
        let isSocket = link.transport.isSocket
        let queue = isSocket ? nil : try channel.pipeline.syncOperations.handler(type: ExtendedConnectStreamHandler.self)
        return .channel(SessionLegChannel(channel: channel, isSocket: isSocket, queue: queue))
    }
}

/// The stream handler of an HTTP/2 upstream leg keeps the count of what waits toward the upstream.
extension ExtendedConnectStreamHandler: SessionLegQueue {}
