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

    /// Opens the upstream leg for a client's request, on the client's EventLoop.
    func open(
        for request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        clientCertificateSubject: String? = nil,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        switch self.configuration.protocol {
        case .echo:
            return eventLoop.makeSucceededFuture(UpstreamLink(channel: nil, response: nil, endpoint: "echo"))
        case .websocketH2:
            return self.openStream(
                for: request,
                upstreamPath: upstreamPath,
                clientAddress: clientAddress,
                scheme: scheme,
                clientCertificateSubject: clientCertificateSubject,
                on: eventLoop
            )
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
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        let key = WebSocketAccept.makeKey()
        let head = UpstreamRequestBuilder.makeRequest(
            from: request,
            upstreamPath: upstreamPath,
            clientAddress: clientAddress,
            scheme: scheme,
            key: key,
            clientCertificateSubject: clientCertificateSubject
        )
        let timeout = TimeAmount(self.configuration.connectTimeout)
        return UpstreamConnector.connect(
            to: order[attempt],
            request: head,
            key: key,
            offeredSubprotocols: request.subprotocols,
            tls: self.tls,
            timeout: timeout,
            on: eventLoop
        ).flatMapError { error in
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
                on: eventLoop
            )
        }
    }
}
