extension ListenerConfiguration {
    /// One entry of `listeners`, already named, with the node of its address for the rules between
    /// listeners; `nil` without a valid address.
    static func read(
        _ mapping: ConfigurationMapping,
        name: String
    ) -> (configuration: ListenerConfiguration, address: ConfigurationNode)? {
        let addressNode = mapping.required("address")
        let address = addressNode?.value(SocketAddressSpec.parse)
        let tlsNode = mapping.value("tls")
        let tls = tlsNode.flatMap(ListenerTLSConfiguration.read)
        let http2Node = mapping.value("http2")
        let http2 = http2Node.map(ListenerHTTP2Configuration.read) ?? ListenerHTTP2Configuration()
        if let http2Node, tlsNode == nil {
            // h2c (prior knowledge on plain TCP) is not served: a setting here would do nothing.
            http2Node.report("'http2' applies to TLS listeners only (ALPN h2); this listener has no 'tls'")
        }
        guard let addressNode, let address else { return nil }
        return (ListenerConfiguration(name: name, address: address, tls: tls, http2: http2), addressNode)
    }
}
