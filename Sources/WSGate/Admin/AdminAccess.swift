import NIOCore
import NIOHTTP1

/// Who may talk to the admin listener, checked before any answer: the admin endpoint must not be
/// reachable from a web page the operator happens to open.
///
/// - DNS rebinding: a page on `evil.example` whose name then resolves to 127.0.0.1 reaches the admin
///   listener from the browser as same-origin, but its requests say `Host: evil.example`. Every
///   request must name the admin listener in `Host`: its configured address, a loopback name
///   (`localhost`, `127.0.0.1`, `[::1]`), or, when it binds every address, any IP literal; the port
///   is not compared (tunnels and port forwards change it). Else 421.
/// - Cross-site requests: a page may send a simple `POST` anywhere without asking. A state-changing
///   request (`POST /reload`) is refused (403) when its `Origin` is not the admin listener's own, and,
///   without `admin.token`, unless it carries ``confirmationHeader`` (a custom header makes a browser
///   ask the listener first with a preflight, which it never approves). With a token the
///   `Authorization` header plays that part.
enum AdminAccess {
    /// The header a state-changing request needs when no token is configured: `X-WSGate-Admin: 1`.
    static let confirmationHeader = "X-WSGate-Admin"

    /// 421 when the request's `Host` does not name the admin listener; checked first, on every request.
    static func misdirection(_ request: AdminRequest, admin: AdminConfiguration) -> HTTPAnswer? {
        guard let host = request.host, Self.namesAdminListener(host, admin: admin) else {
            return .text(
                .misdirectedRequest,
                "misdirected: Host must name the admin listener (\(admin.address), localhost, 127.0.0.1 or [::1])"
            )
        }
        return nil
    }

    /// 403 when a state-changing request may come from a foreign page.
    static func crossSiteRefusal(_ request: AdminRequest, admin: AdminConfiguration) -> HTTPAnswer? {
        if let origin = request.origin, !Self.isOwnOrigin(origin, admin: admin) {
            return .text(.forbidden, "forbidden: Origin \(origin) is not the admin listener")
        }
        if admin.token == nil, request.confirmation == nil {
            return .text(.forbidden, "forbidden: send '\(Self.confirmationHeader): 1' (or set admin.token)")
        }
        return nil
    }

    /// Whether a `Host` value names the admin listener (see the type's description).
    static func namesAdminListener(_ value: String, admin: AdminConfiguration) -> Bool {
        guard let host = HostHeader(value)?.hostname else { return false }
        let configured = admin.address.host.lowercased()
        if host == "localhost" || host == "127.0.0.1" || host == "::1" || host == configured {
            return true
        }
        let bindsEverything = configured == "0.0.0.0" || configured == "::"
        return bindsEverything && (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// Whether `origin` (`scheme://host[:port]`) is a page served by the admin listener itself.
    static func isOwnOrigin(_ origin: String, admin: AdminConfiguration) -> Bool {
        let scheme = admin.tls == nil ? "http://" : "https://"
        guard origin.lowercased().hasPrefix(scheme) else { return false }
        return Self.namesAdminListener(String(origin.dropFirst(scheme.count)), admin: admin)
    }
}
