import NIOCore
import NIOHTTP1

/// Builds the upgrade request sent to a one-to-one upstream from the client's request, and filters
/// the upstream's answer headers relayed to the client: the gateway's one forwarded-header policy,
/// used for HTTP/1.1 and (through ``ExtendedConnectRequestBuilder``) HTTP/2 upstreams alike.
///
/// End-to-end headers (cookies, authorization, origin, subprotocols, custom headers) pass through;
/// hop-by-hop headers, the headers named in `Connection`, `Sec-WebSocket-Extensions` (the upstream
/// leg is uncompressed) and the headers the gateway sets itself do not, in any spelling that differs
/// only by case and `_` for `-` (many app servers fold `X_Client_Cert_Subject` into
/// `X-Client-Cert-Subject`). A field with CR, LF or NUL in its value, or a name that is not an
/// RFC 9110 token, is never relayed in either direction. The client's address is appended to
/// `X-Forwarded-For` and `Forwarded` (RFC 7239, values quoted where they are not tokens).
public enum UpstreamRequestBuilder {
    /// Headers never forwarded, by ``canonicalName(_:)``: hop-by-hop ones (RFC 9110 section 7.6.1),
    /// the per-leg WebSocket ones, and the ones only the gateway sets.
    static let droppedHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-authenticate", "content-length",
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
        // Set only by the gateway, from a verified client certificate: a client must not forge it.
        "x-client-cert-subject",
    ]

    /// - Parameters:
    ///   - scheme: how the client reached us, `http` or `https`.
    ///   - key: the `Sec-WebSocket-Key` for the upstream leg.
    ///   - clientCertificateSubject: the verified client certificate's subject (mTLS listeners), sent as
    ///     `X-Client-Cert-Subject`.
    ///   - dropUnderscoreHeaders: drop every client header whose name contains `_` (the upstream's
    ///     `drop_underscore_headers`, nginx's default `underscores_in_headers off`).
    public static func makeRequest(
        from request: ClientHandshakeRequest,
        upstreamPath: String,
        clientAddress: SocketAddress?,
        scheme: String,
        key: String,
        clientCertificateSubject: String? = nil,
        dropUnderscoreHeaders: Bool = false
    ) -> HTTPRequestHead {
        let received = HTTPHeaders(request.head.headers.filter { Self.isRelayable(name: $0.name, value: $0.value) })
        let named = Set(received[canonicalForm: "Connection"].map { Self.canonicalName(String($0)) })
        var headers = HTTPHeaders()
        for (name, value) in received {
            let canonical = Self.canonicalName(name)
            if Self.droppedHeaders.contains(canonical) || named.contains(canonical) { continue }
            if dropUnderscoreHeaders, name.utf8.contains(UInt8(ascii: "_")) { continue }
            headers.add(name: name, value: value)
        }
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Sec-WebSocket-Key", value: key)
        headers.add(name: "Sec-WebSocket-Version", value: "13")

        let clientIP = clientAddress?.ipAddress
        let priorFor = received["X-Forwarded-For"].joined(separator: ", ")
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
            element.append("for=" + Self.forwardedValue(clientIP.contains(":") ? "[\(clientIP)]" : clientIP))
        }
        if let host = request.host {
            element.append("host=" + Self.forwardedValue(host))
        }
        element.append("proto=" + Self.forwardedValue(scheme))
        let priorForwarded = received["Forwarded"].joined(separator: ", ")
        let forwarded = element.joined(separator: ";")
        headers.add(name: "Forwarded", value: priorForwarded.isEmpty ? forwarded : "\(priorForwarded), \(forwarded)")
        if let clientCertificateSubject, Self.isRelayable(name: ClientCertificateSubject.headerName, value: clientCertificateSubject) {
            headers.add(name: ClientCertificateSubject.headerName, value: clientCertificateSubject)
        }

        return HTTPRequestHead(version: .http1_1, method: .GET, uri: upstreamPath, headers: headers)
    }

    /// Headers of the upstream's 101 (or HTTP/2 2xx) answer that the client's 101 answer carries too
    /// (`Set-Cookie` and other end-to-end headers); the per-leg handshake headers are made by the
    /// gateway itself.
    public static func relayedResponseHeaders(_ headers: HTTPHeaders) -> [(String, String)] {
        headers.filter { name, value in
            let canonical = Self.canonicalName(name)
            return !Self.droppedHeaders.contains(canonical) && canonical != "sec-websocket-protocol" && canonical != "date"
                && canonical != "server" && Self.isRelayable(name: name, value: value)
        }
    }

    /// The name as the policy compares it: lowercased, `_` read as `-`.
    static func canonicalName(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" ? "-" : $0 })
    }

    /// Whether a field may be relayed: a token name (RFC 9110 section 5.1) and a value without CR, LF
    /// or NUL (section 5.5), which would split or cut the header on the other leg.
    static func isRelayable(name: String, value: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(Self.isTokenByte)
            && !value.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }
    }

    /// A `Forwarded` parameter value (RFC 7239 section 4): as is when it is a token, else a
    /// quoted-string with `"` and `\` escaped (IPv6 `for="[::1]"`, `host="example.com:8443"`).
    static func forwardedValue(_ value: String) -> String {
        if !value.isEmpty, value.utf8.allSatisfy(Self.isTokenByte) { return value }
        // Byte by byte: a quote followed by a combining mark is one Character, and must still be escaped.
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { quoted.append(UInt8(ascii: "\\")) }
            quoted.append(byte)
        }
        quoted.append(UInt8(ascii: "\""))
        return String(decoding: quoted, as: UTF8.self)
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
