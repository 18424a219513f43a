import NIOCore
import NIOHTTP1
import Synchronization

/// A named upstream from the config and the state shared by every connection to it: for now the
/// round-robin position. Opening a leg tries the endpoints in turn until one answers.
final class UpstreamCluster: Sendable {
    let configuration: UpstreamConfiguration
    /// The client TLS context when the upstream has `tls`.
    let tls: UpstreamTLSContext?
    /// One counter per upstream, touched once per new session (never on the frame path).
    private let nextIndex = Atomic<Int>(0)

    init(configuration: UpstreamConfiguration, tls: UpstreamTLSContext? = nil) {
        self.configuration = configuration
        self.tls = tls
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
            clientCertificateSubject: clientCertificateSubject
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
