import NIOHTTP1

extension ForwardedFields {
    /// A proxied HTTP/1.1 request, re-serialised (never the client's bytes spliced): `method` on
    /// the upstream target, the end-to-end fields without `Expect` (the gateway answers
    /// `100-continue` itself), the forwarding fields, then the framing the gateway sends the body
    /// with: `Content-Length`, `Transfer-Encoding: chunked`, or for a bodiless request of a method
    /// that has one (`POST`, `PUT`, `PATCH`) `Content-Length: 0`.
    ///
    /// - Parameter authority: the endpoint (`host:port`), the `Host` of a request that had none (an
    ///   HTTP/1.0 client's; the upstream leg is HTTP/1.1, where `Host` is required), as HTTP/2's
    ///   `:authority` is (``extendedConnectHeaders(scheme:authority:)``).
    func httpRequestHead(method: HTTPMethod, framing: HTTPBodyFraming, authority: String) -> HTTPRequestHead {
        var headers = self.endToEnd
        headers.remove(name: "Expect")
        if self.host == nil {
            headers.replaceOrAdd(name: "Host", value: authority)
        }
        headers.add(contentsOf: self.forwarding)
        switch framing {
        case .contentLength(let length):
            headers.add(name: "Content-Length", value: String(length))
        case .chunked:
            headers.add(name: "Transfer-Encoding", value: "chunked")
        case .none, .untilClose:
            if method == .POST || method == .PUT || method == .PATCH {
                headers.add(name: "Content-Length", value: "0")
            }
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: self.path, headers: headers)
    }
}
