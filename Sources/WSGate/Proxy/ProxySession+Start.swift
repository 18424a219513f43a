import NIOCore
import NIOHTTP1

extension ProxySession {
    /// Names of the client connection's handlers before the upgrade.
    enum ClientPipelineNames {
        static let tls = "tls"
        static let decoder = "http-decoder"
        static let encoder = "http-encoder"
    }

    /// Turns an upgraded client connection and its upstream leg into a running session.
    ///
    /// Called on the client's EventLoop (the upstream leg lives on the same loop) right after the 101
    /// answer was written. WebSocket handlers are added before the HTTP ones are removed, so bytes the
    /// HTTP decoders had already read past the handshake reach the frame parser. The client side is set
    /// up first, so whatever the upstream sent right after its 101 finds the client leg ready.
    /// With `compression` negotiated, the client leg gets a `PerMessageDeflateHandler` between its
    /// endpoint (which then accepts RSV1) and its leg handler; the upstream leg stays plain. The
    /// upstream leg is a TCP connection or an HTTP/2 stream (`link.transport`); the session is the same.
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
            let loopState = CompressionLoopState.current
            try client.addHandler(PerMessageDeflateHandler(
                agreement: compression,
                configuration: route.compression,
                maxMessageSize: limits.maxMessage,
                loopState: loopState,
                counters: counters.compression
            ))
        }
        try client.addHandler(ProxyLegHandler(leg: .client, session: session))
        client.removeHandler(context: clientContext, promise: nil)
        client.removeHandler(name: ClientPipelineNames.encoder, promise: nil)
        // A decoder hands on the bytes it read past the handshake on a later tick, without a
        // read-complete event (which is what normally flushes the other leg): flush once it is done.
        client.removeHandler(name: ClientPipelineNames.decoder).whenComplete { _ in
            (link.channel ?? clientChannel).flush()
        }

        if let channel = link.channel {
            let transport = link.transport
            if transport.isSocket {
                try channel.syncOptions?.setOption(.writeBufferWaterMark, value: waterMark)
            }
            let upstream = channel.pipeline.syncOperations
            var upstreamEndpointConfiguration = endpointConfiguration
            upstreamEndpointConfiguration.leavesTransportCloseToServer = transport.isSocket
            try upstream.addHandler(WebSocketEndpointHandler(role: .client, configuration: upstreamEndpointConfiguration))
            try upstream.addHandler(ProxyLegHandler(leg: .upstream, session: session, measuresBufferedBytes: transport.isSocket))
            transport.handOver(upstream) {
                clientChannel.flush()
            }
            channel.read()
        }
        gatewayState.sessions.register(session)
        session.counters.sessionStarted()
        clientChannel.read()
    }
}
