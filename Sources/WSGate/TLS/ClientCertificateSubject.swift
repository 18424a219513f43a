import NIOSSL
import SwiftASN1
import X509

/// The subject of a client certificate as forwarded upstream in `X-Client-Cert-Subject`.
enum ClientCertificateSubject {
    /// The header carrying it; a client's own header of that name is never forwarded.
    static let headerName = "X-Client-Cert-Subject"

    /// The subject distinguished name in RFC 4514 form (`CN=alice,O=Example`), or `nil` if unparseable.
    /// Control characters (CR, LF and NUL among them) are written as RFC 4514 hex escapes (`\0D`), so
    /// that a certificate's name can never end or split the header it is sent in.
    static func subject(of certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return Self.escapingControlCharacters(parsed.subject.description)
    }

    /// RFC 4514 section 2.4: any character may be escaped as `\` and two hex digits.
    private static func escapingControlCharacters(_ name: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in name.utf8 {
            if byte < 0x20 || byte == 0x7F {
                bytes += [UInt8(ascii: "\\"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
