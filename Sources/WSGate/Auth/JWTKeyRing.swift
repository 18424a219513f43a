import JWTKit

/// A ``JWTKeySet`` ready to verify signatures: one jwt-kit `JWTKeyCollection` per allowed algorithm,
/// holding only the keys of that algorithm, so the token's `alg` picks the only keys it may be
/// checked with. A token is checked with one key: the one of its `kid`, else the key configured
/// without a `kid` (a PEM file or secret without one), never several in turn.
final class JWTKeyRing: Sendable {
    let keySet: JWTKeySet
    private let kids: [JWTAlgorithmName: Set<String>]
    private let keyless: Set<JWTAlgorithmName>
    /// Built once, in the background, from the moment the ring exists (jwt-kit's collection is an actor).
    private let collections: Task<[JWTAlgorithmName: JWTKeyCollection], Never>

    init(_ keySet: JWTKeySet) {
        self.keySet = keySet
        var kids: [JWTAlgorithmName: Set<String>] = [:]
        var keyless: Set<JWTAlgorithmName> = []
        for key in keySet.keys {
            for algorithm in key.algorithms {
                if let kid = key.kid {
                    kids[algorithm, default: []].insert(kid)
                } else {
                    keyless.insert(algorithm)
                }
            }
        }
        self.kids = kids
        self.keyless = keyless
        self.collections = Task { await Self.build(keySet) }
    }

    /// Whether a key for `algorithm` and `kid` is here.
    func hasKey(for algorithm: JWTAlgorithmName, kid: String?) -> Bool {
        self.knows(kid: kid, for: algorithm) || self.keyless.contains(algorithm)
    }

    /// Whether a key of that very `kid` is here (for a JWKS URL: fetch again when it is not).
    func knows(kid: String?, for algorithm: JWTAlgorithmName) -> Bool {
        guard let kid else { return false }
        return self.kids[algorithm]?.contains(kid) ?? false
    }

    /// Checks the signature of `token` with the key for `header`'s `alg` and `kid`, and returns its claims.
    func verify(_ token: String, algorithm: JWTAlgorithmName, kid: String?) async throws(AuthFailure) -> TokenClaims {
        guard self.hasKey(for: algorithm, kid: kid), let collection = await self.collections.value[algorithm] else {
            throw .unknownKey
        }
        do {
            return try await collection.verify(token, as: TokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            throw .malformedToken
        }
    }

    private static func build(_ keySet: JWTKeySet) async -> [JWTAlgorithmName: JWTKeyCollection] {
        var collections: [JWTAlgorithmName: JWTKeyCollection] = [:]
        for key in keySet.keys {
            for algorithm in key.algorithms {
                let collection = collections[algorithm] ?? JWTKeyCollection()
                collections[algorithm] = collection
                await Self.add(key.material, for: algorithm, kid: key.kid.map { JWKIdentifier(string: $0) }, to: collection)
            }
        }
        return collections
    }

    private static func add(
        _ material: JWTKeySet.Material,
        for algorithm: JWTAlgorithmName,
        kid: JWKIdentifier?,
        to collection: JWTKeyCollection
    ) async {
        switch (material, algorithm) {
        case (.rsa(let key), .rs256): await collection.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
        case (.rsa(let key), .rs384): await collection.add(rsa: key, digestAlgorithm: .sha384, kid: kid)
        case (.rsa(let key), .rs512): await collection.add(rsa: key, digestAlgorithm: .sha512, kid: kid)
        case (.rsa(let key), .ps256): await collection.add(pss: key, digestAlgorithm: .sha256, kid: kid)
        case (.rsa(let key), .ps384): await collection.add(pss: key, digestAlgorithm: .sha384, kid: kid)
        case (.rsa(let key), .ps512): await collection.add(pss: key, digestAlgorithm: .sha512, kid: kid)
        case (.p256(let key), _): await collection.add(ecdsa: key, kid: kid)
        case (.p384(let key), _): await collection.add(ecdsa: key, kid: kid)
        case (.p521(let key), _): await collection.add(ecdsa: key, kid: kid)
        case (.ed25519(let key), _): await collection.add(eddsa: key, kid: kid)
        case (.hmac(let key), .hs256): await collection.add(hmac: key, digestAlgorithm: .sha256, kid: kid)
        case (.hmac(let key), .hs384): await collection.add(hmac: key, digestAlgorithm: .sha384, kid: kid)
        case (.hmac(let key), .hs512): await collection.add(hmac: key, digestAlgorithm: .sha512, kid: kid)
        default: return
        }
    }
}
