import Foundation
import NIOCore
import NIOHTTP1

/// A route's authentication, as one call on a request head, whatever kind of request it is (a
/// WebSocket upgrade or a plain HTTP request): find the token in the configured sources, validate it
/// (JWT), ask forward auth, take the subject's connection slot, and say what goes upstream.
/// Built with the configuration (keys read then); shared by every loop.
final class RouteAuthenticator: Sendable {
    let configuration: AuthConfiguration
    private let jwt: JWTValidator?
    private let forwardAuth: ForwardAuthClient?
    let subjects: SubjectLimiter?
    private let reservedNames: Set<String>
    /// Seconds since 1970 (a test passes its own clock).
    private let clock: @Sendable () -> Double

    init(
        _ configuration: AuthConfiguration,
        jwt: JWTValidator?,
        subjects: SubjectLimiter?,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.configuration = configuration
        self.jwt = jwt
        self.forwardAuth = configuration.forwardAuth.map(ForwardAuthClient.init)
        self.subjects = subjects
        self.reservedNames = configuration.upstreamHeaderNames
        self.clock = clock
    }

    /// The decision for `head`, completed on `eventLoop`.
    func authenticate(head: HTTPRequestHead, peer: SocketAddress?, on eventLoop: any EventLoop) -> EventLoopFuture<AuthDecision> {
        eventLoop.makeFutureWithTask { await self.authenticate(head: head, peer: peer) }
    }

    func authenticate(head: HTTPRequestHead, peer: SocketAddress?) async -> AuthDecision {
        do throws(AuthFailure) {
            return .admit(try await self.admission(head: head, peer: peer))
        } catch {
            return .refuse(error)
        }
    }

    private func admission(head: HTTPRequestHead, peer: SocketAddress?) async throws(AuthFailure) -> AuthAdmission {
        var admission = AuthAdmission(upstreamHeaders: [], reservedNames: self.reservedNames)
        if let jwt = self.jwt {
            guard let token = PresentedToken.find(in: head, sources: self.configuration.tokenSources) else {
                throw .missingToken
            }
            let claims = try await jwt.validate(token.token, now: self.clock())
            admission.token = token
            admission.subject = claims[self.configuration.subjectClaim]?.text
            // A token admitted inside the leeway keeps its session until the leeway ends too.
            let grace = max(self.configuration.expiryGrace.inSeconds, jwt.policy.leewaySeconds)
            admission.closesAt = claims["exp"]?.seconds.map { $0 + grace }
            for mapping in self.configuration.claimHeaders {
                if let value = claims[mapping.claim]?.text {
                    admission.upstreamHeaders.append((mapping.header, value))
                }
            }
            if let header = self.configuration.tokenHeader {
                admission.upstreamHeaders.append((header, token.token))
            }
        }
        if let forwardAuth = self.forwardAuth {
            admission.upstreamHeaders += try await forwardAuth.check(head, clientIP: peer?.ipAddress)
        }
        if let subjects = self.subjects, let subject = admission.subject {
            guard let lease = subjects.acquire(subject) else { throw .subjectLimit }
            admission.lease = lease
        }
        return admission
    }

}

/// `auth.jwt` ready to use: the allow-list, the keys and the claim checks.
struct JWTValidator: Sendable {
    let algorithms: [JWTAlgorithmName]
    /// The keys read from files and the environment (`nil` when there are none).
    let localKeys: JWTKeyRing?
    let remoteKeys: RemoteJWKS?
    let policy: ClaimsPolicy

    /// The claims of a token that passed: `alg` on the list, a key of that algorithm and `kid`, the
    /// signature, then ``ClaimsPolicy``.
    func validate(_ token: String, now: Double) async throws(AuthFailure) -> TokenClaims {
        guard let header = JOSEHeader.parse(token) else { throw .malformedToken }
        guard let algorithm = JWTAlgorithmName(rawValue: header.alg), self.algorithms.contains(algorithm) else {
            throw .algorithmNotAllowed(header.alg)
        }
        let ring: JWTKeyRing
        if let local = self.localKeys, local.hasKey(for: algorithm, kid: header.kid) {
            ring = local
        } else if let remote = self.remoteKeys {
            ring = try await remote.ring(for: algorithm, kid: header.kid)
        } else {
            throw .unknownKey
        }
        let claims = try await ring.verify(token, algorithm: algorithm, kid: header.kid)
        try self.policy.check(claims, now: now)
        return claims
    }
}
