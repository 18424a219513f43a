import NIOCore
import NIOHPACK
import NIOHTTP1

/// Builds the RFC 8441 extended CONNECT request of a `websocket-h2` upstream stream from the
/// client's request, with the same header policy as the HTTP/1.1 upgrade (``UpstreamRequestBuilder``).
enum ExtendedConnectRequestBuilder {
    /// HTTP/1.1 upgrade mechanics that have no place in HTTP/2 (RFC 8441 section 5: no
    /// `Sec-WebSocket-Key`/`Accept`; RFC 9113 section 8.2.2: no connection-specific fields).
    private static let notInHTTP2: Set<String> = ["host", "upgrade", "connection", "sec-websocket-key"]

    /// - Parameters:
    ///   - upstreamScheme: `https` over TLS, `http` for h2c (the `:scheme` of the stream).
    ///   - clientScheme: how the client reached the gateway (forwarding headers).
    static func makeRequest(
        from request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        upstreamScheme: String,
        clientScheme: String,
        authority: String,
        clientCertificateSubject: String?,
        dropUnderscoreHeaders: Bool = false
    ) -> HPACKHeaders {
        let http1 = UpstreamRequestBuilder.makeRequest(
            from: request,
            upstreamPath: upstreamPath,
            clientAddress: clientAddress,
            scheme: clientScheme,
            key: "",
            clientCertificateSubject: clientCertificateSubject,
            dropUnderscoreHeaders: dropUnderscoreHeaders
        )
        var headers = HPACKHeaders()
        headers.add(name: ":method", value: "CONNECT")
        headers.add(name: ":protocol", value: "websocket")
        headers.add(name: ":scheme", value: upstreamScheme)
        headers.add(name: ":path", value: upstreamPath)
        headers.add(name: ":authority", value: request.host ?? authority)
        for (name, value) in http1.headers {
            let lower = name.lowercased()
            if Self.notInHTTP2.contains(lower) { continue }
            headers.add(name: lower, value: value)
        }
        return headers
    }
}
