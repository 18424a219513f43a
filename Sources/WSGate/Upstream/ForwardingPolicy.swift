import NIOCore
import NIOHTTP1

/// The gateway's one forwarded-header policy: which of a client's header fields go upstream, which
/// the gateway adds, and which of the upstream's answer fields reach the client. Every transport
/// encodes the same ``ForwardedFields`` (``ForwardedFields/webSocketUpgradeHead(key:)`` for HTTP/1.1,
/// ``ForwardedFields/extendedConnectHeaders(scheme:authority:)`` for HTTP/2, and
/// ``ForwardedFields/httpRequestHead(method:framing:authority:)`` for a proxied HTTP request).
///
/// End-to-end fields (cookies, authorization, origin, subprotocols, custom fields) pass through;
/// hop-by-hop fields, the fields named in `Connection`, message framing (`Content-Length`,
/// `Transfer-Encoding`: each encoder frames its own message), the per-leg WebSocket fields
/// (`Sec-WebSocket-Extensions` among them: the upstream leg is uncompressed) and the fields the
/// gateway sets itself (the identity fields of an authenticated client among them) do not, in any spelling that differs only by case and `_` for `-` (many app
/// servers fold `X_Client_Cert_Subject` into `X-Client-Cert-Subject`). A field with CR, LF or NUL in
/// its value, or a name that is not an RFC 9110 token, is never relayed in either direction. The
/// client's address is appended to `X-Forwarded-For` and `Forwarded` (RFC 7239, values quoted where
/// they are not tokens).
struct ForwardingPolicy: Sendable, Equatable {
    /// Drop every client field whose name contains `_` (the upstream's `drop_underscore_headers`,
    /// nginx's default `underscores_in_headers off`).
    var dropUnderscoreHeaders = false

    /// Fields never forwarded, by ``canonicalName(_:)``: hop-by-hop ones (RFC 9110 section 7.6.1),
    /// framing, the per-leg WebSocket ones, and the ones only the gateway sets.
    static let droppedHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authorization", "proxy-authenticate", "content-length",
        "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept",
        "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
        // Set only by the gateway, from a verified client certificate: a client must not forge it.
        "x-client-cert-subject",
    ]

    /// What goes upstream for `request`, before a transport encodes it.
    func fields(for request: ForwardedRequest) -> ForwardedFields {
        let received =
            request.headers.allSatisfy { Self.isRelayable(name: $0.name, value: $0.value) }
            ? request.headers : HTTPHeaders(request.headers.filter { Self.isRelayable(name: $0.name, value: $0.value) })
        // `Connection: host` names no hop-by-hop field: `Host` is end-to-end, and the upstream
        // routes on it (RFC 9112 section 3.2).
        var named = Self.namedInConnection(received)
        named.remove("host")
        let reserved =
            request.identity.isEmpty
            ? request.reservedNames : request.reservedNames.union(request.identity.map { Self.canonicalName($0.0) })
        let lengths = Self.droppedHeaderLengths.union(FieldNameLengths(named)).union(FieldNameLengths(reserved))
        var endToEnd = HTTPHeaders()
        endToEnd.reserveCapacity(received.count)
        for (name, value) in received {
            if lengths.mayContain(name) {
                let canonical = Self.canonicalName(name)
                if Self.droppedHeaders.contains(canonical) || named.contains(canonical) || reserved.contains(canonical) {
                    continue
                }
            }
            if self.dropUnderscoreHeaders, name.utf8.contains(UInt8(ascii: "_")) { continue }
            endToEnd.add(name: name, value: value)
        }
        return ForwardedFields(
            path: request.path,
            host: request.host,
            endToEnd: endToEnd,
            forwarding: Self.forwardingFields(request, received: received)
        )
    }

    /// Fields of the upstream's answer (101, or HTTP/2 2xx) that the client's answer carries too
    /// (`Set-Cookie` and other end-to-end fields); the per-leg handshake fields are the gateway's own.
    static func relayedResponseHeaders(_ headers: HTTPHeaders) -> [(String, String)] {
        headers.filter { name, value in
            let canonical = Self.canonicalName(name)
            return !Self.droppedHeaders.contains(canonical) && canonical != "sec-websocket-protocol" && canonical != "date"
                && canonical != "server" && Self.isRelayable(name: name, value: value)
        }
    }

    /// Fields of a proxied HTTP response (or its trailers) that reach the client: all but the
    /// hop-by-hop ones, those named in its `Connection`, and the framing (the gateway frames the
    /// answer to the client itself); never one with CR, LF or NUL in its value.
    static func relayedHTTPResponseHeaders(_ headers: HTTPHeaders) -> HTTPHeaders {
        let named = Self.namedInConnection(headers)
        let lengths = Self.hopByHopResponseHeaderLengths.union(FieldNameLengths(named))
        var relayed = HTTPHeaders()
        // Room for the framing field the gateway adds.
        relayed.reserveCapacity(headers.count + 1)
        for (name, value) in headers where Self.isRelayable(name: name, value: value) {
            if lengths.mayContain(name) {
                let canonical = Self.canonicalName(name)
                if Self.hopByHopResponseHeaders.contains(canonical) || named.contains(canonical) { continue }
            }
            relayed.add(name: name, value: value)
        }
        return relayed
    }

    /// The fields `Connection` names as hop-by-hop (RFC 9110 section 7.6.1), by canonical name
    /// (none, and no allocation, when there is no `Connection`).
    private static func namedInConnection(_ headers: HTTPHeaders) -> Set<String> {
        guard headers.contains(name: "Connection") else { return [] }
        return Set(headers[canonicalForm: "Connection"].map { Self.canonicalName(String($0)) })
    }

    /// Hop-by-hop fields of an answer (RFC 9110 section 7.6.1) and its framing (`Trailer` is
    /// end-to-end: it announces the trailer fields, which are relayed too).
    static let hopByHopResponseHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade",
        "proxy-authenticate", "content-length",
    ]

    private static let droppedHeaderLengths = FieldNameLengths(droppedHeaders)
    private static let hopByHopResponseHeaderLengths = FieldNameLengths(hopByHopResponseHeaders)

    /// The name as the policy compares it: ASCII letters lowercased, `_` read as `-` (a field name
    /// is a token, ASCII only: one that is not is never relayed). Byte by byte, on every field of
    /// every request and answer: a name already in that form is returned as it is, and one of up to
    /// 15 bytes (most) is built without a heap allocation.
    static func canonicalName(_ name: String) -> String {
        let canonical = { (byte: UInt8) -> Bool in
            byte != UInt8(ascii: "_") && !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
        guard !name.utf8.allSatisfy(canonical) else { return name }
        let count = name.utf8.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            for (index, byte) in name.utf8.enumerated() {
                switch byte {
                case UInt8(ascii: "_"): buffer[index] = UInt8(ascii: "-")
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): buffer[index] = byte | 0x20
                default: buffer[index] = byte
                }
            }
            return count
        }
    }

    /// Whether a field may be relayed: a token name (RFC 9110 section 5.1) and a value without CR, LF
    /// or NUL (section 5.5), which would split or cut the header on the other leg.
    static func isRelayable(name: String, value: String) -> Bool {
        name.isHTTPToken
            && !value.utf8.contains { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") || $0 == 0 }
    }

    /// A `Forwarded` parameter value (RFC 7239 section 4): as is when it is a token, else a
    /// quoted-string with `"` and `\` escaped (IPv6 `for="[::1]"`, `host="example.com:8443"`).
    static func forwardedValue(_ value: String) -> String {
        if value.isHTTPToken { return value }
        // Byte by byte: a quote followed by a combining mark is one Character, and must still be escaped.
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { quoted.append(UInt8(ascii: "\\")) }
            quoted.append(byte)
        }
        quoted.append(UInt8(ascii: "\""))
        return String(decoding: quoted, as: UTF8.self)
    }

    // MARK: Private

    /// `X-Forwarded-*`, `Forwarded`, `X-Client-Cert-Subject` and the identity fields, after what
    /// proxies in front added.
    private static func forwardingFields(_ request: ForwardedRequest, received: HTTPHeaders) -> HTTPHeaders {
        var headers = HTTPHeaders()
        let clientIP = request.client.ipAddress
        let scheme = request.client.scheme
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
        if let subject = request.client.certificateSubject,
            Self.isRelayable(name: ClientCertificateSubject.headerName, value: subject)
        {
            headers.add(name: ClientCertificateSubject.headerName, value: subject)
        }
        for (name, value) in request.identity where Self.isRelayable(name: name, value: value) {
            headers.add(name: name, value: value)
        }
        return headers
    }
}

/// The byte lengths of a set of field names, as a bit mask: a field whose length is none of them
/// is none of those names in any spelling (``ForwardingPolicy/canonicalName(_:)`` keeps the length),
/// so the policy canonicalises and looks up only the fields that may be one (`Content-Length`,
/// `Connection`), not `Content-Type`, `Date` or `Accept` (5 % of a proxied request's instructions).
struct FieldNameLengths: Sendable {
    /// Bit n: a name of n bytes; bit 63: one of 63 bytes or more.
    private var mask: UInt64 = 0

    init(_ names: some Sequence<String>) {
        for name in names {
            self.mask |= Self.bit(name.utf8.count)
        }
    }

    private init(mask: UInt64) {
        self.mask = mask
    }

    /// Whether `name` may be one of the names, by its length.
    func mayContain(_ name: String) -> Bool {
        self.mask & Self.bit(name.utf8.count) != 0
    }

    func union(_ other: FieldNameLengths) -> FieldNameLengths {
        FieldNameLengths(mask: self.mask | other.mask)
    }

    private static func bit(_ length: Int) -> UInt64 {
        1 << UInt64(min(length, 63))
    }
}
