@testable import WSGate

/// Feeds arbitrary `Sec-WebSocket-Extensions` values to `PerMessageDeflateNegotiation` under a
/// fuzzer-chosen compression configuration, and checks the agreement it returns: window bits that
/// zlib can use and that the configuration allows, context takeover off when the configuration says
/// so, and a response header that parses back as one `permessage-deflate` extension.
///
/// Input: byte 0 picks the configuration (bit 0: enabled, bit 1: context takeover, bits 2-4 and 5-7:
/// server and client `max_window_bits` from 9, capped at 15); the rest, split at newlines, are the
/// values of the request's `Sec-WebSocket-Extensions` headers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let setting = bytes.first else { return 0 }
    let configuration = CompressionConfiguration(
        enabled: setting & 0x01 != 0,
        serverMaxWindowBits: min(15, 9 + Int(setting >> 2) & 0x07),
        clientMaxWindowBits: min(15, 9 + Int(setting >> 5) & 0x07),
        contextTakeover: setting & 0x02 != 0
    )
    let headerValues = String(decoding: bytes.dropFirst(), as: UTF8.self)
        .split(separator: "\n", omittingEmptySubsequences: false)
        .map(String.init)
    guard let agreement = PerMessageDeflateNegotiation(configuration: configuration).negotiate(headerValues) else {
        return 0
    }
    precondition(configuration.enabled, "an agreement with compression disabled")
    precondition(
        (9...configuration.serverMaxWindowBits).contains(agreement.serverWindowBits),
        "server window \(agreement.serverWindowBits)"
    )
    precondition((9...15).contains(agreement.clientWindowBits), "client window \(agreement.clientWindowBits)")
    if !configuration.contextTakeover {
        precondition(
            agreement.serverNoContextTakeover && agreement.clientNoContextTakeover,
            "context kept against the configuration"
        )
    }
    let response = ExtensionHeaderParser.parse(agreement.responseHeader)
    precondition(response.count == 1 && response[0].name == "permessage-deflate", "response header \(agreement.responseHeader)")
    return 0
}
