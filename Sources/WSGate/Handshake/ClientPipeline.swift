import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL

/// The one owner of a client connection's pipeline and its handler names, from accept to session:
///
///     accept → [tls] → head limit → HTTP decoder + encoder → handshake       (``configure(_:tls:maxHeaderBytes:handshake:)``)
///     ALPN chose h2: the HTTP/1 handlers leave for the HTTP/2 ones           (``startHTTP2(handshake:connection:ticket:idleTimeout:)``)
///       each stream: router → HTTP/2-to-HTTP/1 codec or CONNECT opening → a handshake of its own
///                                                                            (``configureStream(_:kind:handshake:)``)
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
        static let alpn = "alpn-switch"
        static let headLimit = "http-head-limit"
        static let decoder = "http-decoder"
        static let encoder = "http-encoder"
        static let handshake = "client-handshake"
        static let pipelining = "http-pipelining"
        static let proxy = "http-proxy"
        /// An HTTP/2 stream's codec: NIO's HTTP/2-to-HTTP/1, or ``ExtendedConnectServerCodec``.
        static let streamCodec = "http2-stream-codec"
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
            try sync.addHandler(ALPNSwitchHandler { _ in handshake.negotiatedHTTP2() }, name: Names.alpn)
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

    /// The TLS handshake chose `h2` (``ClientHandshakeStateMachine/Action/serveHTTP2``): the HTTP/1
    /// handlers leave, the HTTP/2 ones (``HTTP2ServerPipeline``) take the connection, and each stream
    /// a client opens gets a handshake of its own, with a ticket of its own under the connection's,
    /// both under the configuration served when the stream opens (``ClientHandshakeContext/streamContext``).
    ///
    /// - Parameters:
    ///   - handshake: the context of the connection's ``ClientHandshakeHandler``, which leaves too.
    ///   - idleTimeout: how long the connection may stay without streams.
    static func startHTTP2(
        handshake: ChannelHandlerContext,
        connection: ClientHandshakeContext,
        ticket: AdmissionTicket,
        idleTimeout: TimeAmount
    ) throws {
        let channel = handshake.channel
        let sync = handshake.pipeline.syncOperations
        try HTTP2ServerPipeline.configure(
            channel,
            after: try sync.handler(type: NIOSSLServerHandler.self),
            configuration: connection.http2,
            idleTimeout: idleTimeout,
            counters: connection.session.stats.protocols,
            registry: connection.http2Connections
        ) { stream, kind in
            let current = connection.streamContext?() ?? connection
            let streamTicket = AdmissionTicket(
                streamOf: ticket,
                limits: current.configuration.limits,
                countsAsConnection: kind.isWebSocket
            )
            let releasing = NIOLoopBound(streamTicket, eventLoop: stream.eventLoop)
            stream.closeFuture.whenComplete { _ in releasing.value.release() }
            try Self.configureStream(
                stream,
                kind: kind,
                handshake: ClientHandshakeHandler(connection: current, ticket: streamTicket, stream: kind)
            )
        }
        // Behind the HTTP/2 handlers now, the HTTP/1 ones see no more bytes while they leave.
        sync.removeHandler(name: Names.alpn, promise: nil)
        sync.removeHandler(name: Names.headLimit, promise: nil)
        sync.removeHandler(name: Names.decoder, promise: nil)
        sync.removeHandler(name: Names.encoder, promise: nil)
        sync.removeHandler(context: handshake, promise: nil)
    }

    /// A client's HTTP/2 stream, behind its router: a request goes through NIO's HTTP/2-to-HTTP/1
    /// codec (the handshake and the HTTP proxy see the same request parts as on HTTP/1.1; toward the
    /// client it drops hop-by-hop fields and frames bodies as DATA); a CONNECT through the gateway's
    /// own opening, which keeps `:protocol`.
    static func configureStream(_ stream: any Channel, kind: HTTP2StreamKind, handshake: ClientHandshakeHandler) throws {
        let sync = stream.pipeline.syncOperations
        switch kind {
        case .request:
            try sync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec(), name: Names.streamCodec)
        case .connect, .malformed:
            try sync.addHandler(ExtendedConnectServerCodec(), name: Names.streamCodec)
        }
        try sync.addHandler(handshake, name: Names.handshake)
    }

    /// A plain HTTP request on the connection (``ClientHandshakeStateMachine/Action/proxyHTTP(_:)``):
    /// NIO's pipelining handler (one request at a time, answered in order) and the HTTP proxy join
    /// behind the handshake handler, which hands them the request head and leaves; the rest of the
    /// request flows to them from the decoder. An HTTP/2 stream carries one exchange: no pipelining.
    ///
    /// - Parameters:
    ///   - handshake: the context of the client's ``ClientHandshakeHandler``.
    ///   - isStream: whether the client's channel is an HTTP/2 stream.
    static func startHTTPProxy(
        handshake: ChannelHandlerContext,
        head: HTTPRequestHead,
        proxy: HTTPProxyHandler,
        isStream: Bool
    ) throws {
        let sync = handshake.pipeline.syncOperations
        if isStream {
            try sync.addHandler(proxy, name: Names.proxy, position: .after(handshake.handler))
        } else {
            let pipelining = HTTPServerPipelineHandler()
            try sync.addHandler(pipelining, name: Names.pipelining, position: .after(handshake.handler))
            try sync.addHandler(proxy, name: Names.proxy, position: .after(pipelining))
        }
        handshake.fireChannelRead(NIOAny(HTTPServerRequestPart.head(head)))
        sync.removeHandler(context: handshake, promise: nil)
    }

    /// First step of the hand-over, right after the 101 (or an HTTP/2 stream's 200) was written:
    /// takes the HTTP/1.1 codecs out of both legs. The future completes once each decoder has handed
    /// the bytes it read past the handshake to its handshake handler, which keeps them
    /// (``HandshakeLeftovers``); only then may frames be written to either leg. On a client's stream
    /// the CONNECT opening hands on its DATA and the tunnel (``HTTP2StreamTunnelHandler``) takes its place.
    static func retireHTTPCodecs(
        client: ChannelPipeline.SynchronousOperations,
        clientIsStream: Bool,
        upstream link: UpstreamLink,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void> {
        let clientDecoder: EventLoopFuture<Void>
        if clientIsStream {
            clientDecoder = client.removeHandler(name: Names.streamCodec)
            do {
                try client.addHandler(HTTP2StreamTunnelHandler(forwarding: true, endsStreamOnClose: true), position: .first)
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        } else {
            client.removeHandler(name: Names.encoder, promise: nil)
            clientDecoder = client.removeHandler(name: Names.decoder)
        }
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
        auth: AuthAdmission? = nil,
        clientIsStream: Bool = false
    ) throws {
        let client = handshake.channel
        guard client.isActive, link.channel?.isActive ?? true else {
            auth?.lease?.release()
            client.close(promise: nil)
            link.channel?.close(promise: nil)
            return
        }
        // A client's HTTP/2 stream: its tunnel handler counts what waits toward the client.
        let clientQueue: HTTP2StreamTunnelHandler? =
            try clientIsStream ? client.pipeline.syncOperations.handler(type: HTTP2StreamTunnelHandler.self) : nil
        try ProxySession.start(
            client: SessionLegChannel(channel: client, isSocket: !clientIsStream, queue: clientQueue),
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
        let queue = isSocket ? nil : try channel.pipeline.syncOperations.handler(type: HTTP2StreamTunnelHandler.self)
        return .channel(SessionLegChannel(channel: channel, isSocket: isSocket, queue: queue))
    }
}
