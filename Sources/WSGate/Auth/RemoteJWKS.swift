import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The keys of a `jwks_url`, fetched with AsyncHTTPClient and kept: refreshed on an interval and
/// when a token names an unknown `kid`, served stale while the issuer is down, up to `max_stale`
/// (``JWKSRefreshPolicy``). One fetch at a time; tokens arriving meanwhile wait for it.
final class RemoteJWKS: Sendable {
    private struct State {
        var policy: JWKSRefreshPolicy
        var ring: JWTKeyRing?
        var fetch: Task<Void, Never>?
    }

    let configuration: JWKSURLConfiguration
    private let algorithms: [JWTAlgorithmName]
    private let state: NIOLockedValueBox<State>
    /// The largest JWK Set accepted.
    static let maxDocumentBytes = 1 << 20

    init(_ configuration: JWKSURLConfiguration, algorithms: [JWTAlgorithmName]) {
        self.configuration = configuration
        self.algorithms = algorithms
        let policy = JWKSRefreshPolicy(
            refreshInterval: configuration.refreshInterval.inSeconds,
            maxStale: configuration.maxStale.inSeconds
        )
        self.state = NIOLockedValueBox(State(policy: policy))
    }

    /// The keys to check a token of `algorithm` and `kid` with, fetching first when they lack the `kid`.
    func ring(for algorithm: JWTAlgorithmName, kid: String?) async throws(AuthFailure) -> JWTKeyRing {
        let now = AuthClock.monotonicSeconds
        let (step, ring, fetch) = self.state.withLockedValue {
            state -> (JWKSRefreshPolicy.Step, JWTKeyRing?, Task<Void, Never>?) in
            let knows =
                state.ring.map { $0.knows(kid: kid, for: algorithm) || (kid == nil && $0.hasKey(for: algorithm, kid: nil)) }
                ?? false
            let step = state.policy.step(now: now, knowsKid: knows)
            if step == .fetchFirst || step == .useAndRefresh {
                if state.fetch == nil {
                    state.policy.fetchStarted(now: now)
                    state.fetch = Task { await self.fetch() }
                }
            }
            return (step, state.ring, state.fetch)
        }
        switch step {
        case .use, .useAndRefresh:
            guard let ring else { throw .keysUnavailable }
            return ring
        case .unavailable:
            throw .keysUnavailable
        case .fetchFirst:
            await fetch?.value
            let (usable, ring) = self.state.withLockedValue { ($0.policy.isUsable(now: AuthClock.monotonicSeconds), $0.ring) }
            guard usable, let ring else { throw .keysUnavailable }
            return ring
        }
    }

    private func fetch() async {
        let ring = await self.download()
        self.state.withLockedValue { state in
            if let ring {
                state.ring = ring
                state.policy.fetchSucceeded(now: AuthClock.monotonicSeconds)
            }
            state.fetch = nil
        }
    }

    /// The key set at the URL, or `nil` when it cannot be had (not 200, too large, not a JWK Set).
    private func download() async -> JWTKeyRing? {
        do {
            var request = HTTPClientRequest(url: self.configuration.url)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await AuthHTTPClient.shared.execute(
                request,
                timeout: TimeAmount(self.configuration.timeout)
            )
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: Self.maxDocumentBytes)
            let keys = try JWTKeySet.parse(jwks: Data(body.readableBytesView), allowed: self.algorithms, secrets: false)
            return JWTKeyRing(keys)
        } catch {
            return nil
        }
    }

}

/// The HTTP client of authentication's subrequests (JWKS URLs, forward auth): one for the process,
/// never following redirects (a forward-auth 302 to a login page must not read as a 200).
enum AuthHTTPClient {
    static let shared = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow)
    )
}
