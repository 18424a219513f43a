import NIOCore

/// The clocks of authentication, in seconds: the monotonic one of caches and key refreshes (a JWKS
/// URL's age, forward auth's TTL), and durations converted to it. Token times (`exp`, `nbf`) are
/// wall-clock seconds since 1970, read by ``RouteAuthenticator``.
enum AuthClock {
    static var monotonicSeconds: Double {
        Double(NIODeadline.now().uptimeNanoseconds) / 1e9
    }
}

extension Duration {
    var inSeconds: Double {
        Double(self.components.seconds) + Double(self.components.attoseconds) * 1e-18
    }
}
