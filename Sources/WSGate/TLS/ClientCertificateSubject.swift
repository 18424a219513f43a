import NIOSSL
import SwiftASN1
import X509

/// The subject of a client certificate as forwarded upstream in `X-Client-Cert-Subject`.
enum ClientCertificateSubject {
    /// The header carrying it; a client's own header of that name is never forwarded.
    static let headerName = "X-Client-Cert-Subject"

    /// The subject distinguished name in RFC 4514 form (`CN=alice,O=Example`), or `nil` if unparseable.
    static func subject(of certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return parsed.subject.description
    }
}
