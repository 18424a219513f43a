import NIOCore
import NIOHTTP1

/// What the gateway forwards a client's request from, whatever the upstream's transport: the request
/// as the client sent it, where it goes upstream, and who sent it how. The input of
/// ``ForwardingPolicy``.
struct ForwardedRequest: Sendable {
    /// Who sent the request and how it reached the gateway: what the forwarding fields say.
    struct Client: Sendable {
        let address: SocketAddress?
        /// The address's IP as text, made once per connection (not once per request of it).
        let ipAddress: String?
        /// How the client reached the gateway, `http` or `https`.
        var scheme: String
        /// The verified client certificate's subject (mTLS listeners), sent as `X-Client-Cert-Subject`.
        var certificateSubject: String?

        init(address: SocketAddress?, scheme: String, certificateSubject: String? = nil) {
            self.address = address
            self.ipAddress = address?.ipAddress
            self.scheme = scheme
            self.certificateSubject = certificateSubject
        }
    }

    /// The header fields as the client sent them.
    var headers: HTTPHeaders
    /// The client's `Host`, port included.
    var host: String?
    /// The request target upstream (path and query, after the route's rewrite).
    var path: String
    var client: Client
    /// Fields the gateway adds from the client's authentication (claims, forward auth's answer).
    var identity: [(String, String)]
    /// Canonical names (``ForwardingPolicy/canonicalName(_:)``) of every field the route sets from
    /// authentication, set this time or not: a client's own copies never go upstream.
    var reservedNames: Set<String>

    init(
        headers: HTTPHeaders,
        host: String?,
        path: String,
        client: Client,
        identity: [(String, String)] = [],
        reservedNames: Set<String> = []
    ) {
        self.headers = headers
        self.host = host
        self.path = path
        self.client = client
        self.identity = identity
        self.reservedNames = reservedNames
    }
}
