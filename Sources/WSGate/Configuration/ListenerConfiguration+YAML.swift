extension ListenerConfiguration {
    /// One entry of `listeners`, already named, with the node of its address for the rules between
    /// listeners; `nil` without a valid address.
    static func read(
        _ mapping: ConfigurationMapping,
        name: String
    ) -> (configuration: ListenerConfiguration, address: ConfigurationNode)? {
        let addressNode = mapping.required("address")
        let address = addressNode?.value(SocketAddressSpec.parse)
        let tls = mapping.value("tls").flatMap(ListenerTLSConfiguration.read)
        guard let addressNode, let address else { return nil }
        return (ListenerConfiguration(name: name, address: address, tls: tls), addressNode)
    }
}
