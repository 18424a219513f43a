import Foundation
import NIOSSL
import SwiftASN1
import X509

/// Reads the PEM files a TLS configuration names and reports every problem as a ``ConfigurationIssue``
/// at the line that names the file, saying which file and what is wrong with it.
///
/// Reading is blocking disk I/O: call it when the gateway is created or reloaded, never on an event loop.
enum TLSFileLoader {
    /// A certificate chain with its private key, checked to belong together.
    struct LoadedPair {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        /// The leaf's DNS subject alternative names, for SNI selection.
        var dnsNames: [String]
    }

    /// Loads `pair`: the chain (leaf first), the key (decrypted with `key_password_env` if set), and
    /// checks that the key belongs to the leaf by building a TLS context with both.
    static func load(_ pair: CertificateKeyPair) throws(ConfigurationError) -> LoadedPair {
        let chain = try self.certificates(pair.certificate, what: "certificate")
        let key = try self.privateKey(pair)
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) },
                    privateKey: .privateKey(key)
                )
            )
        } catch {
            throw ConfigurationError(issues: [
                pair.privateKey.issue(
                    "private key \(pair.privateKey.path) does not match certificate \(pair.certificate.path) (\(error))"
                )
            ])
        }
        return LoadedPair(chain: chain, key: key, dnsNames: self.dnsNames(of: chain[0]))
    }

    /// Every certificate in a PEM file; at least one.
    static func certificates(_ file: ConfiguredFile, what: String) throws(ConfigurationError) -> [NIOSSLCertificate] {
        let bytes = try self.read(file, what: what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw ConfigurationError(issues: [file.issue("\(what) file \(file.path) is not a PEM certificate (\(error))")])
        }
        guard !certificates.isEmpty else {
            throw ConfigurationError(issues: [file.issue("\(what) file \(file.path) holds no PEM certificate")])
        }
        return certificates
    }

    private static func privateKey(_ pair: CertificateKeyPair) throws(ConfigurationError) -> NIOSSLPrivateKey {
        let file = pair.privateKey
        let bytes = try self.read(file, what: "private key")
        do {
            // Always with a callback: without one, BoringSSL would prompt on stdin for an encrypted key.
            var password: [UInt8]?
            if let variable = pair.keyPasswordEnvironment {
                guard let value = ProcessInfo.processInfo.environment[variable] else {
                    throw ConfigurationError(issues: [
                        file.issue("environment variable \(variable) (key_password_env) is not set")
                    ])
                }
                password = Array(value.utf8)
            }
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem) { (setter: NIOSSLPassphraseSetter<[UInt8]>) in
                guard let password else { throw EncryptedKeyWithoutPassword() }
                setter(password)
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            let hint = pair.keyPasswordEnvironment == nil ? "; an encrypted key needs key_password_env" : "; wrong passphrase?"
            throw ConfigurationError(issues: [
                file.issue("private key file \(file.path) is not a usable PEM private key (\(error))\(hint)")
            ])
        }
    }

    private struct EncryptedKeyWithoutPassword: Error, CustomStringConvertible {
        var description: String { "the key is encrypted" }
    }

    private static func read(_ file: ConfiguredFile, what: String) throws(ConfigurationError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw ConfigurationError(issues: [file.issue("cannot read \(what) file \(file.path): no such file")])
        }
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ConfigurationError(issues: [
                file.issue("cannot read \(what) file \(file.path): permission denied or not a file")
            ])
        }
        return Array(data)
    }

    /// The DNS names in the certificate's subject alternative names (none if it has no such extension).
    static func dnsNames(of certificate: NIOSSLCertificate) -> [String] {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der),
            let names = try? parsed.extensions.subjectAlternativeNames
        else { return [] }
        return names.compactMap { name in
            if case .dnsName(let dnsName) = name { return dnsName }
            return nil
        }
    }
}
