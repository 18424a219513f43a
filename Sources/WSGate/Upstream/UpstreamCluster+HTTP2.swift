import NIOCore
import NIOHPACK
import NIOHTTP1

/// Opening the upstream leg of a `websocket-h2` session: a stream on the client loop's pool.
extension UpstreamCluster {
    /// Tries the endpoints (healthy ones first, per `balance`); an unreachable endpoint, or one that
    /// refuses extended CONNECT, passes the session to the next. A stream refused before its answer
    /// (REFUSED_STREAM), or a non-2xx on a connection's first stream (hypercorn refuses stream 1 of
    /// an h2c prior-knowledge connection with 400), is retried once. The whole opening is bounded by
    /// `connect_timeout`; a client is never left waiting on a stream that does not come.
    func openStream(
        for request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        clientCertificateSubject: String?,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamLink> {
        guard let poolSet = self.http2Pools else {
            return eventLoop.makeFailedFuture(UpstreamError(.unreachable, "upstream \(self.configuration.name) has no pools"))
        }
        let candidates = poolSet.pools(on: eventLoop).candidates()
        let attempt = StreamAttempt(
            headers: { pool in
                ExtendedConnectRequestBuilder.makeRequest(
                    from: request,
                    upstreamPath: upstreamPath,
                    clientAddress: clientAddress,
                    upstreamScheme: self.tls == nil ? "http" : "https",
                    clientScheme: scheme,
                    authority: pool.settings.endpoint.description,
                    clientCertificateSubject: clientCertificateSubject,
                    dropUnderscoreHeaders: self.configuration.dropUnderscoreHeaders
                )
            },
            offeredSubprotocols: request.subprotocols,
            deadline: .now() + TimeAmount(self.configuration.connectTimeout),
            eventLoop: eventLoop
        )
        return attempt.run(candidates[...], retried: false, lastError: nil)
    }
}

/// One session's search for a stream, loop-confined.
private struct StreamAttempt {
    var headers: (HTTP2ConnectionPool) -> HPACKHeaders
    var offeredSubprotocols: [String]
    var deadline: NIODeadline
    var eventLoop: any EventLoop

    func run(_ candidates: ArraySlice<HTTP2ConnectionPool>, retried: Bool, lastError: UpstreamError?) -> EventLoopFuture<UpstreamLink> {
        guard let pool = candidates.first else {
            return self.eventLoop.makeFailedFuture(lastError ?? UpstreamError(.unreachable, "no endpoint"))
        }
        let endpoint = pool.settings.endpoint.description
        let handshake = self.eventLoop.makePromise(of: HTTPResponseHead.self)
        let headers = self.headers(pool)
        let offered = self.offeredSubprotocols
        let result = self.eventLoop.makePromise(of: UpstreamLink.self)
        let loop = self.eventLoop

        pool.openStream(deadline: self.deadline) { channel in
            try channel.pipeline.syncOperations.addHandler(
                ExtendedConnectStreamHandler(request: headers, offeredSubprotocols: offered, promise: handshake)
            )
        }.assumeIsolated().whenComplete { opened in
            switch opened {
            case .failure(let error):
                handshake.fail(error)
                let upstreamError: UpstreamError
                switch (error as? HTTP2PoolError)?.reason {
                case .pool(.unreachable)?, .pool(.extendedConnectUnsupported)?:
                    // Another endpoint may serve the session.
                    self.run(candidates.dropFirst(), retried: retried, lastError: UpstreamError(.unreachable, "\(error)"))
                        .cascade(to: result)
                    return
                case .timedOut?:
                    upstreamError = UpstreamError(.streamRefused, "\(error)")
                case .pool(.shutdown)?, nil:
                    upstreamError = UpstreamError(.unreachable, "\(error)")
                }
                pool.record(.failed)
                result.fail(upstreamError)
            case .success(let stream):
                let timer = loop.scheduleTask(deadline: self.deadline) {
                    handshake.fail(UpstreamError(.handshakeFailed, "no answer from \(endpoint) to the extended CONNECT in time"))
                    stream.channel.close(promise: nil)
                }
                handshake.futureResult.assumeIsolated().whenComplete { answered in
                    timer.cancel()
                    switch answered {
                    case .success(let head):
                        pool.record(.opened)
                        result.succeed(UpstreamLink(channel: stream.channel, response: head, endpoint: endpoint, transport: .http2Stream))
                    case .failure(let error):
                        let upstreamError = error as? UpstreamError ?? UpstreamError(.handshakeFailed, "\(error)")
                        let retry: Bool
                        switch upstreamError.kind {
                        case .streamRefused:
                            pool.record(.refused)
                            retry = true
                        case .refused:
                            pool.record(.failed)
                            retry = stream.isFirstOnConnection
                        case .unreachable, .invalidResponse, .handshakeFailed:
                            pool.record(.failed)
                            retry = false
                        }
                        if retry, !retried {
                            self.run(candidates, retried: true, lastError: upstreamError).cascade(to: result)
                        } else {
                            result.fail(upstreamError)
                        }
                    }
                }
            }
        }
        return result.futureResult
    }
}
