import NIOHTTP1

/// How an HTTP/1.1 message's body is delimited (RFC 9112 section 6).
enum HTTPBodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// `Content-Length` bytes.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// Until the connection closes (responses only: neither field, RFC 9112 section 6.3 rule 8).
    case untilClose

    /// The framing of a client's request, or the answer that refuses it (RFC 9112 section 6.3 and
    /// 11.2, the request smuggling defences): `Content-Length` beside `Transfer-Encoding`, several
    /// `Content-Length` values that differ or one that is not a number, or a `Transfer-Encoding`
    /// whose last coding is not `chunked` are 400; a coding besides `chunked` is 501; a declared
    /// length over `maxBody` (when it is not 0) is 413 before any of the body is read. A request of an
    /// HTTP/2 stream comes as version 2.0 through NIO's codec, which adds `Transfer-Encoding: chunked`
    /// when the client gave no length (HTTP/2 itself forbids the field, so a client cannot send it).
    static func request(_ head: HTTPRequestHead, maxBody: Int) throws(HandshakeRejection) -> HTTPBodyFraming {
        let lengths = head.headers[canonicalForm: "Content-Length"].map { String($0) }
        let codings = head.headers[canonicalForm: "Transfer-Encoding"].map { $0.lowercased() }
        if !codings.isEmpty {
            guard lengths.isEmpty else {
                throw .badRequest("Content-Length and Transfer-Encoding in one request")
            }
            guard head.version.major > 1 || head.version.minor >= 1 else {
                throw .badRequest("Transfer-Encoding in an HTTP/1.0 request")
            }
            guard codings.last == "chunked" else {
                throw .badRequest("Transfer-Encoding does not end in chunked")
            }
            guard codings.count == 1 else {
                throw HandshakeRejection(.notImplemented, "only the chunked transfer coding is supported")
            }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
            first.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let length = Int(first)
        else {
            throw .badRequest("Content-Length is not one number")
        }
        if maxBody > 0, length > maxBody {
            throw HandshakeRejection(.payloadTooLarge, "request body over max_request_body (\(maxBody) bytes)")
        }
        return length == 0 ? .none : .contentLength(length)
    }
}
