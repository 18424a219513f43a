import NIOCore
import NIOHTTP1

/// Builds the upgrade request sent to a one-to-one upstream from the client's request.
///
/// End-to-end headers (cookies, authorization, origin, subprotocols, custom headers) pass through;
/// hop-by-hop headers, the headers named in `Connection`, and `Sec-WebSocket-Extensions` (the upstream
/// leg is uncompressed) do not. The client's address is appended to `X-Forwarded-For` and `Forwarded`.
public enum UpstreamRequestBuilder {
    /// Headers never forwarded: hop-by-hop ones (RFC 9110 section 7.6.1) and the per-leg WebSocket ones.
    static let droppedHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-authenticate", "content-length",
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
        // Set only by the gateway, from a verified client certificate: a client must not forge it.
        "x-client-cert-subject",
    ]

    /// - Parameters:
    ///   - scheme: how the client reached us, `http` or `https`.
    ///   - key: the `Sec-WebSocket-Key` for the upstream leg.
    ///   - clientCertificateSubject: the verified client certificate's subject (mTLS listeners), sent as
    ///     `X-Client-Cert-Subject`.
    public static func makeRequest(
        from request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        key: String,
        clientCertificateSubject: String? = nil
    ) -> HTTPRequestHead {
        let named = Set(request.head.headers[canonicalForm: "Connection"].map { $0.lowercased() })
        var headers = HTTPHeaders()
        for (name, value) in request.head.headers {
            let lower = name.lowercased()
            if Self.droppedHeaders.contains(lower) || named.contains(lower) { continue }
            if lower == "x-forwarded-for" || lower == "x-forwarded-proto" || lower == "x-forwarded-host" || lower == "forwarded" {
                continue
            }
            headers.add(name: name, value: value)
        }
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Sec-WebSocket-Key", value: key)
        headers.add(name: "Sec-WebSocket-Version", value: "13")

        let clientIP = clientAddress?.ipAddress
        let priorFor = request.head.headers["X-Forwarded-For"].joined(separator: ", ")
        if let clientIP {
            headers.add(name: "X-Forwarded-For", value: priorFor.isEmpty ? clientIP : "\(priorFor), \(clientIP)")
        } else if !priorFor.isEmpty {
            headers.add(name: "X-Forwarded-For", value: priorFor)
        }
        headers.add(name: "X-Forwarded-Proto", value: scheme)
        if let host = request.host {
            headers.add(name: "X-Forwarded-Host", value: host)
        }
        var element: [String] = []
        if let clientIP {
            element.append(clientIP.contains(":") ? "for=\"[\(clientIP)]\"" : "for=\(clientIP)")
        }
        if let host = request.host {
            element.append("host=\"\(host)\"")
        }
        element.append("proto=\(scheme)")
        let priorForwarded = request.head.headers["Forwarded"].joined(separator: ", ")
        let forwarded = element.joined(separator: ";")
        headers.add(name: "Forwarded", value: priorForwarded.isEmpty ? forwarded : "\(priorForwarded), \(forwarded)")
        if let clientCertificateSubject {
            headers.add(name: ClientCertificateSubject.headerName, value: clientCertificateSubject)
        }

        return HTTPRequestHead(version: .http1_1, method: .GET, uri: upstreamPath, headers: headers)
    }

    /// Headers of the upstream's 101 answer that the client's 101 answer carries too (`Set-Cookie` and
    /// other end-to-end headers); the per-leg handshake headers are made by the gateway itself.
    public static func relayedResponseHeaders(_ headers: HTTPHeaders) -> [(String, String)] {
        headers.filter { name, _ in
            let lower = name.lowercased()
            return !Self.droppedHeaders.contains(lower) && lower != "sec-websocket-protocol" && lower != "date"
                && lower != "server"
        }
    }
}
