import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A named upstream from the config and the state shared by every connection to it: the round-robin
/// position, and for `websocket-h2` the per-EventLoop HTTP/2 pools. Opening a leg tries the
/// endpoints in turn until one answers.
final class UpstreamCluster: Sendable {
    let configuration: UpstreamConfiguration
    /// The client TLS context when the upstream has `tls`.
    let tls: UpstreamTLSContext?
    /// The HTTP/2 pools of a `websocket-h2` upstream; nil otherwise.
    let http2Pools: HTTP2PoolSet?
    /// One counter per upstream, touched once per new session (never on the frame path).
    private let nextIndex = Atomic<Int>(0)

    /// - Parameter http2Pools: the pools to keep using (a reload of an unchanged `websocket-h2`
    ///   upstream keeps its connections); new ones are made when nil.
    init(
        configuration: UpstreamConfiguration,
        tls: UpstreamTLSContext? = nil,
        http2Pools: HTTP2PoolSet? = nil,
        logger: Logger = Logger(label: "wsgate")
    ) {
        self.configuration = configuration
        self.tls = tls
        switch configuration.protocol {
        case .websocketH2:
            self.http2Pools = http2Pools ?? HTTP2PoolSet(configuration: configuration, tls: tls, logger: logger)
        case .websocket, .echo:
            self.http2Pools = nil
        }
    }

    /// Opens the upstream leg for a client's request, on the client's EventLoop; attempts, their
    /// time and the open connections are counted in `counters` (the gateway's, on that loop).
    func open(
        for request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        clientCertificateSubject: String? = nil,
        counters: UpstreamCounters,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        switch self.configuration.protocol {
        case .echo:
            return eventLoop.makeSucceededFuture(UpstreamLink(channel: nil, response: nil, endpoint: "echo"))
        case .websocketH2:
            let started = NIODeadline.now()
            let counters = NIOLoopBound(counters, eventLoop: eventLoop)
            return self.openStream(
                for: request,
                upstreamPath: upstreamPath,
                clientAddress: clientAddress,
                scheme: scheme,
                clientCertificateSubject: clientCertificateSubject,
                on: eventLoop
            ).map { link in
                counters.value.connected(endpoint: link.endpoint, after: (.now() - started).nanoseconds, ownsConnection: false)
                return link
            }.flatMapErrorThrowing { error in
                counters.value.connectFailed(error)
                throw error
            }
        case .websocket:
            let endpoints = self.configuration.endpoints
            let first = self.nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
            return self.connect(
                attempt: 0,
                order: (0..<endpoints.count).map { endpoints[(first + $0) % endpoints.count] },
                request: request,
                upstreamPath: upstreamPath,
                clientAddress: clientAddress,
                scheme: scheme,
                clientCertificateSubject: clientCertificateSubject,
                counters: NIOLoopBound(counters, eventLoop: eventLoop),
                on: eventLoop
            )
        }
    }

    /// Tries `order[attempt...]`; an unreachable endpoint passes the session to the next one
    /// (like nginx's `proxy_next_upstream error timeout`), any answer from an endpoint is final.
    private func connect(
        attempt: Int,
        order: [SocketAddressSpec],
        request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        clientCertificateSubject: String? = nil,
        counters: NIOLoopBound<UpstreamCounters>,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        let key = WebSocketAccept.makeKey()
        let head = UpstreamRequestBuilder.makeRequest(
            from: request,
            upstreamPath: upstreamPath,
            clientAddress: clientAddress,
            scheme: scheme,
            key: key,
            clientCertificateSubject: clientCertificateSubject,
            dropUnderscoreHeaders: self.configuration.dropUnderscoreHeaders
        )
        let timeout = TimeAmount(self.configuration.connectTimeout)
        let started = NIODeadline.now()
        return UpstreamConnector.connect(
            to: order[attempt],
            request: head,
            key: key,
            offeredSubprotocols: request.subprotocols,
            tls: self.tls,
            timeout: timeout,
            on: eventLoop
        ).map { link in
            Self.countConnected(link, in: counters.value, after: .now() - started, on: eventLoop)
            return link
        }.flatMapError { error in
            counters.value.connectFailed(error)
            guard let upstreamError = error as? UpstreamError, upstreamError.kind == .unreachable, attempt + 1 < order.count else {
                return eventLoop.makeFailedFuture(error)
            }
            return self.connect(
                attempt: attempt + 1,
                order: order,
                request: request,
                upstreamPath: upstreamPath,
                clientAddress: clientAddress,
                scheme: scheme,
                clientCertificateSubject: clientCertificateSubject,
                counters: counters,
                on: eventLoop
            )
        }
    }

    /// Counts an opened leg on this loop, and its connection until it closes (the
    /// `wsgate_upstream_connections` gauge for one-to-one upstreams).
    private static func countConnected(_ link: UpstreamLink, in counters: UpstreamCounters, after latency: TimeAmount, on eventLoop: any EventLoop) {
        counters.connected(endpoint: link.endpoint, after: latency.nanoseconds)
        guard let channel = link.channel else { return }
        let endpoint = link.endpoint
        let bound = NIOLoopBound(counters, eventLoop: eventLoop)
        channel.closeFuture.whenComplete { _ in
            bound.value.connectionClosed(endpoint: endpoint)
        }
    }
}
