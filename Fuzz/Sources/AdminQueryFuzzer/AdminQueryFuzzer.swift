@testable import WSGate

/// Feeds arbitrary bytes, as the query string of `GET /stats/connections?…`, to the admin query parser:
/// it must answer with a value or an `AdminRequestError`, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let query = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ConnectionListQuery(query: query)
    return 0
}
