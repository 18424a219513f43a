import NIOCore
import NIOHTTP1

extension ProxySession {
    /// Names of the client connection's handlers before the upgrade.
    enum ClientPipelineNames {
        static let tls = "tls"
        static let decoder = "http-decoder"
        static let encoder = "http-encoder"
    }

    /// First step of the hand-over, right after the 101 was written: takes the HTTP/1.1 codecs out of
    /// both legs. The future completes once each decoder has handed the bytes it read past the
    /// handshake to its handshake handler, which keeps them (``HandshakeLeftovers``); only then may
    /// frames be written to either leg, so ``start(clientContext:upstream:route:path:compression:services:countTraffic:)``
    /// waits for it.
    static func retireHTTPCodecs(client: ChannelPipeline.SynchronousOperations, upstream link: UpstreamLink, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        client.removeHandler(name: ClientPipelineNames.encoder, promise: nil)
        let clientDecoder = client.removeHandler(name: ClientPipelineNames.decoder)
        guard let channel = link.channel else { return clientDecoder }
        let upstreamDecoder = link.transport.retireHTTPCodec(channel.pipeline.syncOperations, on: eventLoop)
        return clientDecoder.and(upstreamDecoder).map { _ in }
    }

    /// Turns an upgraded client connection and its upstream leg into a running session.
    ///
    /// Called on the client's EventLoop (the upstream leg lives on the same loop) once
    /// ``retireHTTPCodecs(client:upstream:on:)`` is done. The session's handlers are added behind the
    /// handshake handlers, the session is registered, and then the handshake handlers leave, handing
    /// on what each peer sent right after its handshake: the upstream's first, so that what the client
    /// pipelined finds both legs ready. With `compression` negotiated, the client leg gets a
    /// `PerMessageDeflateHandler` between its endpoint (which then accepts RSV1) and its leg handler;
    /// the upstream leg stays plain. The upstream leg is a TCP connection or an HTTP/2 stream
    /// (`link.transport`); the session is the same.
    static func start(
        clientContext: ChannelHandlerContext,
        upstream link: UpstreamLink,
        route: RouteConfiguration,
        path: String,
        compression: PerMessageDeflateAgreement? = nil,
        services: GatewayServices,
        countTraffic: Bool = true
    ) throws {
        let gatewayState = GatewayLoopState.current(for: services)
        let counters = gatewayState.stats.route(route.name)
        let limits = route.limits
        let identity = SessionIdentity(
            id: SessionRegistry.makeID(),
            route: route.name,
            clientAddress: clientContext.channel.remoteAddress,
            upstreamEndpoint: link.endpoint,
            path: path,
            subprotocol: link.subprotocol,
            compressed: compression != nil,
            started: .now()
        )
        let session = ProxySession(
            identity: identity,
            eventLoop: clientContext.eventLoop,
            isEcho: link.channel == nil,
            route: route,
            registry: gatewayState.sessions,
            counters: counters,
            countsTraffic: countTraffic,
            accessLog: services.accessLog
        )
        let waterMark = ChannelOptions.Types.WriteBufferWaterMarkOption.Value(
            low: route.backpressure.lowWater,
            high: route.backpressure.highWater
        )
        let endpointConfiguration = WebSocketEndpointConfiguration(
            maxFrameSize: limits.maxFrame,
            maxMessageSize: limits.maxMessage,
            pingInterval: limits.pingInterval > .zero ? TimeAmount(limits.pingInterval) : nil,
            closeTimeout: TimeAmount(limits.closeTimeout)
        )

        try clientContext.channel.syncOptions?.setOption(.writeBufferWaterMark, value: waterMark)
        let clientChannel = clientContext.channel
        var clientEndpointConfiguration = endpointConfiguration
        clientEndpointConfiguration.negotiatedReservedBits = compression == nil ? 0 : WebSocketFrameHeader.rsv1

        let client = clientContext.pipeline.syncOperations
        try client.addHandler(WebSocketEndpointHandler(role: .server, configuration: clientEndpointConfiguration))
        if let compression {
            let loopState = gatewayState.compression
            try client.addHandler(PerMessageDeflateHandler(
                agreement: compression,
                configuration: route.compression,
                maxMessageSize: limits.maxMessage,
                loopState: loopState,
                counters: counters.compression,
                gate: { session.inboundGate(from: .client) }
            ))
        }
        try client.addHandler(ProxyLegHandler(leg: .client, session: session))

        var upstreamChannel: (any Channel)?
        if let channel = link.channel {
            let transport = link.transport
            if transport.isSocket {
                try channel.syncOptions?.setOption(.writeBufferWaterMark, value: waterMark)
            }
            let upstream = channel.pipeline.syncOperations
            var upstreamEndpointConfiguration = endpointConfiguration
            upstreamEndpointConfiguration.leavesTransportCloseToServer = transport.isSocket
            try upstream.addHandler(WebSocketEndpointHandler(role: .client, configuration: upstreamEndpointConfiguration))
            let streamQueue = transport.isSocket ? nil : try upstream.handler(type: ExtendedConnectStreamHandler.self)
            try upstream.addHandler(ProxyLegHandler(leg: .upstream, session: session, streamQueue: streamQueue))
            upstreamChannel = channel
        }
        gatewayState.sessions.register(session)
        session.counters.sessionStarted()
        if let upstreamChannel {
            link.transport.finishHandOver(upstreamChannel.pipeline.syncOperations)
            upstreamChannel.read()
        }
        client.removeHandler(context: clientContext, promise: nil)
        clientChannel.read()
    }
}
