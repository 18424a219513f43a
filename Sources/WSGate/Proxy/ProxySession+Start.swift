import Foundation
import NIOCore

/// The upstream side of a new session.
enum SessionUpstream {
    /// A WebSocket over a channel whose handshake is done: the session adds its handlers to it.
    case channel(SessionLegChannel)
    /// The built-in echo (``EchoLeg``).
    case echo
}

/// A leg's channel as the session's handlers need to know it.
struct SessionLegChannel {
    var channel: any Channel
    /// Whether the channel is a socket: it takes write water marks and reports its queued bytes, and
    /// as a client leg it leaves closing TCP to the server. False for an HTTP/2 stream.
    var isSocket: Bool
    /// What counts the leg's queued bytes when the channel cannot (an HTTP/2 stream); nil on a socket.
    var queue: (any SessionLegQueue)?
}

extension ProxySession {
    /// Turns an upgraded client connection and its upstream into a session: adds the session-phase
    /// handlers of each leg (``addLegHandlers(to:leg:session:route:compression:environment:)``) behind the
    /// handshake handlers, and registers the session.
    ///
    /// Called on the client's EventLoop (a channel upstream lives on the same loop) once both legs'
    /// HTTP codecs are gone. The caller then retires the handshake handlers, the upstream's first,
    /// so that what the client pipelined finds both legs ready. With `compression` negotiated, the
    /// client leg gets a `PerMessageDeflateHandler` between its endpoint (which then accepts RSV1) and
    /// its leg handler; the upstream leg stays plain.
    @discardableResult
    static func start(
        client clientLeg: SessionLegChannel,
        upstream: SessionUpstream,
        upstreamEndpoint: String,
        subprotocol: String?,
        route: RouteConfiguration,
        path: String,
        compression: PerMessageDeflateAgreement? = nil,
        environment: SessionEnvironment,
        auth: AuthAdmission? = nil
    ) throws -> ProxySession {
        let client = clientLeg.channel
        let identity = SessionIdentity(
            id: SessionRegistry.makeID(),
            route: route.name,
            clientAddress: client.remoteAddress,
            upstreamEndpoint: upstreamEndpoint,
            path: path,
            subprotocol: subprotocol,
            compressed: compression != nil,
            started: .now(),
            subject: auth?.subject,
            clientProtocol: clientLeg.isSocket ? "http/1.1" : "h2"
        )
        let session = ProxySession(
            identity: identity,
            eventLoop: client.eventLoop,
            route: route,
            environment: environment,
            closesAt: auth?.closesAt.map(Self.deadline(atUnixSeconds:)),
            subjectLease: auth?.lease
        )
        let clientHandler = try Self.addLegHandlers(
            to: clientLeg,
            leg: .client,
            session: session,
            route: route,
            compression: compression,
            environment: environment
        )
        switch upstream {
        case .channel(let channel):
            try Self.addLegHandlers(
                to: channel,
                leg: .upstream,
                session: session,
                route: route,
                compression: nil,
                environment: environment
            )
        case .echo:
            session.attach(EchoLeg(session: session, client: clientHandler), as: .upstream)
        }
        environment.sessions.register(session)
        session.counters.sessionStarted()
        return session
    }

    /// The loop's deadline for a wall-clock time (a token's `exp`).
    static func deadline(atUnixSeconds seconds: Double) -> NIODeadline {
        let remaining = seconds - Date().timeIntervalSince1970
        return .now() + .nanoseconds(Int64(max(0, min(remaining, 1e9)) * 1e9))
    }

    /// Adds the session phase of one leg to its channel, the same for both legs: the route's write
    /// water marks on a socket, the RFC 6455 endpoint (server role toward the client, client role
    /// toward an upstream), permessage-deflate when negotiated, and the ``ProxyLegHandler`` joining
    /// the session.
    @discardableResult
    private static func addLegHandlers(
        to leg: SessionLegChannel,
        leg side: Leg,
        session: ProxySession,
        route: RouteConfiguration,
        compression: PerMessageDeflateAgreement?,
        environment: SessionEnvironment
    ) throws -> ProxyLegHandler {
        if leg.isSocket {
            let waterMark = ChannelOptions.Types.WriteBufferWaterMarkOption.Value(
                low: route.backpressure.lowWater,
                high: route.backpressure.highWater
            )
            try leg.channel.syncOptions?.setOption(.writeBufferWaterMark, value: waterMark)
        }
        let limits = route.limits
        var endpoint = WebSocketEndpointConfiguration(
            maxFrameSize: limits.maxFrame,
            maxMessageSize: limits.maxMessage,
            pingInterval: limits.pingInterval > .zero ? TimeAmount(limits.pingInterval) : nil,
            closeTimeout: TimeAmount(limits.closeTimeout),
            negotiatedReservedBits: compression == nil ? 0 : WebSocketFrameHeader.rsv1
        )
        endpoint.leavesTransportCloseToServer = leg.isSocket
        let pipeline = leg.channel.pipeline.syncOperations
        try pipeline.addHandler(WebSocketEndpointHandler(role: side == .client ? .server : .client, configuration: endpoint))
        if let compression {
            try pipeline.addHandler(
                PerMessageDeflateHandler(
                    agreement: compression,
                    configuration: route.compression,
                    maxMessageSize: limits.maxMessage,
                    loopState: environment.compression,
                    counters: session.counters.compression,
                    gate: { session.inboundGate(from: side) }
                )
            )
        }
        let handler = ProxyLegHandler(leg: side, session: session, streamQueue: leg.queue)
        try pipeline.addHandler(handler)
        return handler
    }
}
