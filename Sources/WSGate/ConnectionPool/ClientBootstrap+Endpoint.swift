import NIOCore
import NIOPosix

extension ClientBootstrap {
    /// Dials `endpoint`: an IP address straight (`connect(to:)`), a host name through NIO's resolver
    /// and Happy Eyeballs (`connect(host:port:)`). An IP address needs no resolution, and the
    /// resolver would cost every connection two `getaddrinfo` calls on a dispatch queue, the hops
    /// to and from it and the Happy Eyeballs timers (`scripts/bench_instructions.sh --connects`).
    func connect(to endpoint: SocketAddressSpec) -> EventLoopFuture<any Channel> {
        if let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) {
            return self.connect(to: address)
        }
        return self.connect(host: endpoint.host, port: endpoint.port)
    }
}
