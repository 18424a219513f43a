import NIOHPACK

extension ForwardedFields {
    /// The HTTP/2 extended CONNECT header block of a WebSocket stream (RFC 8441 section 4): the
    /// pseudo-header fields first, the client's `Host` as `:authority` (`authority`, the endpoint, when
    /// it has none), `sec-websocket-version`, then the end-to-end and forwarding fields lowercased
    /// (RFC 9113 section 8.2.1). No `Upgrade`, `Connection` or `Sec-WebSocket-Key`: HTTP/2 has no
    /// connection-specific fields (section 8.2.2) and RFC 8441 section 5 no key.
    ///
    /// - Parameter scheme: `https` over TLS, `http` for h2c (the stream's `:scheme`).
    func extendedConnectHeaders(scheme: String, authority: String) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.add(name: ":method", value: "CONNECT")
        headers.add(name: ":protocol", value: "websocket")
        headers.add(name: ":scheme", value: scheme)
        headers.add(name: ":path", value: self.path)
        headers.add(name: ":authority", value: self.host ?? authority)
        headers.add(name: "sec-websocket-version", value: "13")
        for (name, value) in self.endToEnd {
            let lowercased = name.lowercased()
            // Section 8.3.1: `:authority` carries it.
            if lowercased == "host" { continue }
            headers.add(name: lowercased, value: value)
        }
        for (name, value) in self.forwarding {
            headers.add(name: name.lowercased(), value: value)
        }
        return headers
    }
}
