import Foundation
import JWTKit

/// Verification keys as values, each tied to the algorithms it may verify: what a JWKS document, a
/// PEM file or an HMAC secret yields. A key is only ever used with an algorithm of its own kind
/// (an RSA key never verifies an `HS256` token, so a public key can never serve as an HMAC secret),
/// and a JWK that names its `alg` only with that one.
struct JWTKeySet: Sendable {
    /// A key's material, by kind.
    enum Material: Sendable {
        case rsa(Insecure.RSA.PublicKey)
        case p256(ES256PublicKey)
        case p384(ES384PublicKey)
        case p521(ES512PublicKey)
        case ed25519(EdDSA.PublicKey)
        case hmac(HMACKey)

        /// The algorithms this kind of key can verify.
        var algorithms: [JWTAlgorithmName] {
            switch self {
            case .rsa: return [.rs256, .rs384, .rs512, .ps256, .ps384, .ps512]
            case .p256: return [.es256]
            case .p384: return [.es384]
            case .p521: return [.es512]
            case .ed25519: return [.eddsa]
            case .hmac: return [.hs256, .hs384, .hs512]
            }
        }
    }

    struct Key: Sendable {
        var kid: String?
        var algorithms: [JWTAlgorithmName]
        var material: Material
    }

    /// Why a key source could not be used (the message of a configuration issue).
    struct LoadError: Error {
        var message: String
    }

    private(set) var keys: [Key] = []

    init(keys: [Key] = []) {
        self.keys = keys
    }

    /// Adds `material`, for the algorithms of `allowed` it can verify (only `alg` when it names one).
    mutating func add(_ material: Material, kid: String?, alg: String? = nil, allowed: [JWTAlgorithmName]) {
        var algorithms = material.algorithms.filter(allowed.contains)
        if let alg {
            algorithms = algorithms.filter { $0.rawValue == alg }
        }
        guard !algorithms.isEmpty else { return }
        self.keys.append(Key(kid: kid, algorithms: algorithms, material: material))
    }

    mutating func append(contentsOf other: JWTKeySet) {
        self.keys += other.keys
    }

    // MARK: Sources

    /// A PEM public key: RSA, EC (P-256, P-384, P-521) or Ed25519 `PUBLIC KEY`.
    static func material(pem: String) throws(LoadError) -> Material {
        if let key = try? Insecure.RSA.PublicKey(pem: pem) { return .rsa(key) }
        if let key = try? ES256PublicKey(pem: pem) { return .p256(key) }
        if let key = try? ES384PublicKey(pem: pem) { return .p384(key) }
        if let key = try? ES512PublicKey(pem: pem) { return .p521(key) }
        if let key = try? EdDSA.PublicKey(pem: pem) { return .ed25519(key) }
        throw LoadError(message: "not a PEM public key (RSA of 2048 bits or more, EC P-256/P-384/P-521, or Ed25519)")
    }

    /// The signing keys of a JWK Set (RFC 7517 section 5); keys for encryption (`use: enc`) and of
    /// unknown kinds are skipped, a key that is malformed is an error. `secrets: false` (a set
    /// fetched from a URL) skips `oct` keys too: an issuer publishes public keys, and a shared secret
    /// read from the network would let whoever serves or alters the document sign HS* tokens.
    static func parse(jwks data: Data, allowed: [JWTAlgorithmName], secrets: Bool = true) throws(LoadError) -> JWTKeySet {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw LoadError(message: "not a JWK Set (a JSON object with a 'keys' list)")
        }
        var set = JWTKeySet()
        for (index, jwk) in document.keys.enumerated() where (jwk.use == nil || jwk.use == "sig") && (secrets || jwk.kty != "oct")
        {
            do {
                guard let material = try Self.material(jwk) else { continue }
                set.add(material, kid: jwk.kid, alg: jwk.alg, allowed: allowed)
            } catch {
                throw LoadError(message: "key \(index)\(jwk.kid.map { " (kid \($0))" } ?? ""): \(error.message)")
            }
        }
        return set
    }

    private struct Document: Decodable {
        var keys: [JWKFields]
    }

    private struct JWKFields: Decodable {
        var kty: String
        var kid: String?
        var alg: String?
        var use: String?
        var n: String?
        var e: String?
        var crv: String?
        var x: String?
        var y: String?
        var k: String?
    }

    private static func material(_ jwk: JWKFields) throws(LoadError) -> Material? {
        do {
            switch (jwk.kty, jwk.crv) {
            case ("RSA", _):
                guard let n = jwk.n, let e = jwk.e else { throw LoadError(message: "RSA key without n or e") }
                return .rsa(try Insecure.RSA.PublicKey(modulus: n, exponent: e))
            case ("EC", "P-256"?), ("EC", "P-384"?), ("EC", "P-521"?):
                guard let x = jwk.x, let y = jwk.y else { throw LoadError(message: "EC key without x or y") }
                switch jwk.crv {
                case "P-256": return .p256(try ES256PublicKey(parameters: (x, y)))
                case "P-384": return .p384(try ES384PublicKey(parameters: (x, y)))
                default: return .p521(try ES512PublicKey(parameters: (x, y)))
                }
            case ("OKP", "Ed25519"?):
                guard let x = jwk.x else { throw LoadError(message: "OKP key without x") }
                return .ed25519(try EdDSA.PublicKey(x: x, curve: .ed25519))
            case ("oct", _):
                guard let k = jwk.k, let secret = JOSEHeader.base64URLDecoded(Substring(k)), !secret.isEmpty else {
                    throw LoadError(message: "oct key without k")
                }
                return .hmac(HMACKey(from: secret))
            default:
                return nil
            }
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(message: "unusable key (\(error))")
        }
    }
}
