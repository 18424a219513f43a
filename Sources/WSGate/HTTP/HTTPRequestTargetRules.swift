import NIOHTTP1

/// What a proxied request's head must be for the route it matched to be the route the upstream
/// serves it as: routes compare the target and `Host` byte for byte, upstream apps resolve them.
/// So a request is refused whose meaning an app may read differently from the route table.
enum HTTPRequestTargetRules {
    /// - `CONNECT` is 501 (a tunnel, not a request the proxy forwards).
    /// - More than one `Host`, or none in HTTP/1.1, is 400 (RFC 9112 section 3.2): the route is
    ///   matched on the first, an app may read another.
    /// - A target not in origin form (`/path?query`; `*` for `OPTIONS`) is 400: an app takes the
    ///   authority of an absolute-form target over `Host`.
    /// - A path with a dot segment (`/a/../admin`, `/a/..;/admin`), an empty segment (`//admin`), a
    ///   backslash, or a percent-encoded unreserved character, `/` or `\\` (`/%61dmin`, `/a%2Fb`)
    ///   is 400 (RFC 3986 section 6.2.2): an app that decodes, resolves or merges it would serve
    ///   another route's path.
    static func check(_ head: HTTPRequestHead) throws(HandshakeRejection) {
        guard head.method != .CONNECT else {
            throw HandshakeRejection(.notImplemented, "CONNECT is not proxied")
        }
        try Self.checkTarget(head)
    }

    /// The `Host` and target rules of ``check(_:)`` without its method rule: also those of an
    /// HTTP/2 extended CONNECT (RFC 8441 section 4), whose `:path` and `:authority` route it.
    static func checkTarget(_ head: HTTPRequestHead) throws(HandshakeRejection) {
        let hosts = head.headers["Host"].count
        guard hosts <= 1, hosts == 1 || (head.version.major, head.version.minor) < (1, 1) else {
            throw .badRequest(hosts == 0 ? "no Host in an HTTP/1.1 request" : "more than one Host")
        }
        if head.method == .OPTIONS, head.uri == "*" { return }
        let path = head.uri.utf8.prefix { $0 != UInt8(ascii: "?") }
        guard path.first == UInt8(ascii: "/") else {
            throw .badRequest("request target not in origin form")
        }
        guard !Self.hasEncodedUnreserved(path), !Self.hasDotSegment(path) else {
            throw .badRequest("request path not in normal form")
        }
    }

    /// A `.` or `..` segment, also before a `;` parameter (`..;`, which Tomcat and Jetty resolve), an
    /// empty segment inside the path (`//admin`, which many apps merge), or a backslash (which some
    /// read as `/`).
    private static func hasDotSegment(_ path: Substring.UTF8View) -> Bool {
        if path.contains(UInt8(ascii: "\\")) { return true }
        let segments = path.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        return segments.enumerated().contains { index, segment in
            let name = segment.prefix { $0 != UInt8(ascii: ";") }
            return name.elementsEqual(".".utf8) || name.elementsEqual("..".utf8)
                || (segment.isEmpty && index < segments.count - 1)
        }
    }

    private static func hasEncodedUnreserved(_ path: Substring.UTF8View) -> Bool {
        var bytes = path.makeIterator()
        while let byte = bytes.next() {
            guard byte == UInt8(ascii: "%") else { continue }
            guard let high = bytes.next().flatMap(Self.hexValue), let low = bytes.next().flatMap(Self.hexValue) else {
                return true
            }
            let decoded = high << 4 | low
            if decoded.isASCIIAlphanumeric || "-._~/\\".utf8.contains(decoded) { return true }
        }
        return false
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
