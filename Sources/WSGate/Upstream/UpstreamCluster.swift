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
