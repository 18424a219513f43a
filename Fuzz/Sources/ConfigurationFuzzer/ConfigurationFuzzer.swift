@testable import WSGate

/// Feeds arbitrary text, as a configuration file, to `GatewayConfiguration.parse`: it must return a
/// configuration or a `ConfigurationError`, never trap. An accepted configuration is also turned into
/// its route table and described, as `wsgate validate` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let yaml = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try GatewayConfiguration.parse(yaml: yaml, file: "fuzz.yaml")
        _ = RouteTable(configuration: configuration).description
    } catch {
        _ = error.description
    }
    return 0
}
