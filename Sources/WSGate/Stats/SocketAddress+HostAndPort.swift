import NIOCore

extension SocketAddress {
    /// `ip:port` (`[ip]:port` for IPv6), without NIO's `[IPv4]` decoration: how `/stats` and the
    /// access log write addresses.
    var hostAndPort: String {
        guard let ip = self.ipAddress, let port = self.port else { return "\(self)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
