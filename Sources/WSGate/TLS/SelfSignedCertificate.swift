import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A development certificate (`tls: {self_signed: true}`): a fresh P-256 key and a self-signed
/// certificate for `localhost`, `127.0.0.1` and `::1`, valid for 30 days from start-up. Clients must
/// be told to trust it (or not to verify); it is for trying TLS locally, never for production.
enum SelfSignedCertificate {
    /// The names the certificate covers.
    static let dnsNames = ["localhost"]
    static let ipAddresses: [[UInt8]] = [[127, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]

    /// Generates a new key and certificate.
    static func make(now: Date = Date()) throws -> (certificate: NIOSSLCertificate, key: NIOSSLPrivateKey) {
        let signingKey = P256.Signing.PrivateKey()
        let key = Certificate.PrivateKey(signingKey)
        let name = try DistinguishedName {
            OrganizationName("wsgate development")
            CommonName("localhost")
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(
                Self.dnsNames.map { GeneralName.dnsName($0) }
                    + Self.ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
            )
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-60),
            notValidAfter: now.addingTimeInterval(30 * 24 * 60 * 60),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: key
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return (
            try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der),
            try NIOSSLPrivateKey(bytes: Array(signingKey.derRepresentation), format: .der)
        )
    }
}
