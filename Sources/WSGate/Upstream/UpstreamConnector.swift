import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Opens one-to-one upstream legs: a TCP connection on the client's EventLoop, TLS on it when the
/// upstream has `tls`, and an HTTP/1.1 WebSocket handshake, bounded by the upstream's `connect_timeout`
/// as a whole. A TLS failure (verification included) fails the leg like a broken handshake: 502.
enum UpstreamConnector {
    static func connect(
        to endpoint: SocketAddressSpec,
        request: HTTPRequestHead,
        key: String,
        offeredSubprotocols: [String],
        tls: UpstreamTLSContext?,
        timeout: TimeAmount,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        let handshake = eventLoop.makePromise(of: HTTPResponseHead.self)
        let connect = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try UpstreamPipeline.configureConnection(
                        channel.pipeline.syncOperations,
                        tls: try tls.map {
                            try NIOSSLClientHandler(context: $0.sslContext, serverHostname: $0.serverName(for: endpoint))
                        },
                        handshake: UpstreamHandshakeHandler(
                            request: request,
                            key: key,
                            offeredSubprotocols: offeredSubprotocols,
                            promise: handshake
                        )
                    )
                }
            }
            .connect(to: endpoint)

        connect.whenFailure { error in
            handshake.fail(UpstreamError(.unreachable, "\(endpoint): \(error)"))
        }
        let deadline = eventLoop.scheduleTask(in: timeout) {
            handshake.fail(UpstreamError(.handshakeFailed, "no handshake answer from \(endpoint) within \(timeout)"))
        }
        return handshake.futureResult.flatMap { head in
            connect.map { channel in UpstreamLink(channel: channel, response: head, endpoint: endpoint.description) }
        }.flatMapError { error in
            connect.whenSuccess { $0.close(promise: nil) }
            return eventLoop.makeFailedFuture(error)
        }.always { _ in
            deadline.cancel()
        }
    }
}
