import NIOHTTP1

/// A forwarded request after ``ForwardingPolicy``: what every transport sends, before it adds its
/// own mechanics. Each upstream transport is one encoder of this value (an HTTP/1.1 upgrade, an
/// HTTP/2 extended CONNECT; a plain HTTP request would be a third).
struct ForwardedFields: Sendable {
    /// The request target upstream.
    var path: String
    /// The client's `Host` (HTTP/2 sends it as `:authority`).
    var host: String?
    /// The client's end-to-end fields that go, in its order (`Host` among them).
    var endToEnd: HTTPHeaders
    /// The fields the gateway adds: `X-Forwarded-*`, `Forwarded`, `X-Client-Cert-Subject`, identity fields.
    var forwarding: HTTPHeaders
}
