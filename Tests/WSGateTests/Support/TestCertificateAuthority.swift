import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A throwaway certificate authority for TLS tests: generates a P-256 root and issues leaf
/// certificates (P-256 or RSA keys, optionally through an intermediate), writing PEM files into a
/// temporary directory that is removed when the authority goes away. No key is ever committed.
final class TestCertificateAuthority {
    enum KeyKind {
        case p256
        case rsa2048
    }

    /// PEM files of an issued certificate: the chain (leaf first) and the private key.
    struct Issued {
        var certificatePath: String
        var keyPath: String
    }

    let directory: URL
    /// The root certificate's PEM file, to trust in clients and as a `ca` in the gateway.
    let caPath: String
    private let rootKey: Certificate.PrivateKey
    private let root: Certificate

    init(name: String = "wsgate test CA") throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsgate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        self.rootKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName { CommonName(name) }
        self.root = try Self.sign(
            publicKey: self.rootKey.publicKey,
            subject: subject,
            issuer: subject,
            issuerKey: self.rootKey,
            extensions: Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            }
        )
        self.caPath = self.directory.appendingPathComponent("ca.pem").path
        try self.root.serializeAsPEM().pemString.write(toFile: self.caPath, atomically: true, encoding: .utf8)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// Issues a server (or client) certificate named `fileName` for `dnsNames` and `ipAddresses`.
    /// With `viaIntermediate` the leaf is signed by a fresh intermediate CA and the certificate file
    /// holds the leaf then the intermediate, so a client trusting only the root needs the whole chain.
    func issue(
        _ fileName: String,
        commonName: String? = nil,
        dnsNames: [String] = ["localhost"],
        ipAddresses: [[UInt8]] = [[127, 0, 0, 1]],
        key kind: KeyKind = .p256,
        clientAuth: Bool = false,
        viaIntermediate: Bool = false
    ) throws -> Issued {
        var issuerKey = self.rootKey
        var issuer = self.root
        var chain: [Certificate] = []
        if viaIntermediate {
            let intermediateKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let intermediate = try Self.sign(
                publicKey: intermediateKey.publicKey,
                subject: try DistinguishedName { CommonName("\(fileName) intermediate CA") },
                issuer: self.root.subject,
                issuerKey: self.rootKey,
                extensions: Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                }
            )
            chain.append(intermediate)
            (issuerKey, issuer) = (intermediateKey, intermediate)
        }

        let keyPEM: String
        let leafKey: Certificate.PrivateKey
        switch kind {
        case .p256:
            let key = P256.Signing.PrivateKey()
            (keyPEM, leafKey) = (key.pemRepresentation, Certificate.PrivateKey(key))
        case .rsa2048:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            (keyPEM, leafKey) = (key.pemRepresentation, Certificate.PrivateKey(key))
        }
        let names =
            dnsNames.map { GeneralName.dnsName($0) }
            + ipAddresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let leaf = try Self.sign(
            publicKey: leafKey.publicKey,
            subject: try DistinguishedName {
                OrganizationName("wsgate tests")
                CommonName(commonName ?? dnsNames.first ?? fileName)
            },
            issuer: issuer.subject,
            issuerKey: issuerKey,
            extensions: Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: kind == .rsa2048))
                try ExtendedKeyUsage([clientAuth ? .clientAuth : .serverAuth])
                SubjectAlternativeNames(names)
            }
        )
        let certificatePath = self.directory.appendingPathComponent("\(fileName).crt").path
        let keyPath = self.directory.appendingPathComponent("\(fileName).key").path
        let pem = try ([leaf] + chain).map { try $0.serializeAsPEM().pemString }.joined(separator: "\n")
        try (pem + "\n").write(toFile: certificatePath, atomically: true, encoding: .utf8)
        try (keyPEM + "\n").write(toFile: keyPath, atomically: true, encoding: .utf8)
        return Issued(certificatePath: certificatePath, keyPath: keyPath)
    }

    private static func sign(
        publicKey: Certificate.PublicKey,
        subject: DistinguishedName,
        issuer: DistinguishedName,
        issuerKey: Certificate.PrivateKey,
        extensions: Certificate.Extensions
    ) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(24 * 3600),
            issuer: issuer,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: issuerKey
        )
    }
}
