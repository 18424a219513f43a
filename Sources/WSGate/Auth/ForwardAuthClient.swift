import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// `auth.forward_auth`: asks the app's auth endpoint about a client's request. The subrequest carries
/// the client's method, `X-Forwarded-Method`, `X-Forwarded-Uri` (the request target), `X-Forwarded-Host`,
/// `X-Forwarded-For` and the chosen request headers, without a body. A 2xx admits (its configured
/// headers go upstream); a 401 or 403 goes back to the client with its body, `Content-Type` and
/// `WWW-Authenticate`; anything else, a timeout or an error is a 503. Admissions and refusals are
/// kept for `cache_ttl` per credentials (the chosen request headers' values) and request path
/// (an app may answer `/admin` otherwise than `/`).
final class ForwardAuthClient: Sendable {
    /// What the endpoint decided.
    enum Verdict: Sendable {
        /// Admitted, with the headers to send upstream.
        case admit([(String, String)])
        case refuse(HTTPAnswer)
    }

    let configuration: ForwardAuthConfiguration
    private let cache: NIOLockedValueBox<ForwardAuthCache<Verdict>>
    /// The largest refusal body passed on to the client.
    static let maxBodyBytes = 64 * 1024

    init(_ configuration: ForwardAuthConfiguration) {
        self.configuration = configuration
        self.cache = NIOLockedValueBox(ForwardAuthCache(ttl: configuration.cacheTTL.inSeconds))
    }

    func check(_ head: HTTPRequestHead, clientIP: String?) async throws(AuthFailure) -> [(String, String)] {
        // The key holds everything the subrequest shows the app (method, the whole URI with its
        // query, Host, client IP, the chosen headers), so one client's answer never serves another
        // that differs in any of them; a request without any chosen header is never cached.
        let credentials = self.configuration.requestHeaders.map { head.headers[$0].joined(separator: "\n") }
        let cacheable = credentials.contains { !$0.isEmpty }
        let key =
            ([head.method.rawValue, head.uri, head.headers.first(name: "Host") ?? "", clientIP ?? ""] + credentials)
            .joined(separator: "\r")
        let now = AuthClock.monotonicSeconds
        let verdict: Verdict
        if cacheable, let cached = self.cache.withLockedValue({ $0.answer(for: key, now: now) }) {
            verdict = cached
        } else {
            verdict = try await self.ask(head, clientIP: clientIP)
            if cacheable {
                self.cache.withLockedValue { $0.store(verdict, for: key, now: AuthClock.monotonicSeconds) }
            }
        }
        switch verdict {
        case .admit(let headers): return headers
        case .refuse(let answer): throw .forwardAuthRefused(answer)
        }
    }

    private func ask(_ head: HTTPRequestHead, clientIP: String?) async throws(AuthFailure) -> Verdict {
        var request = HTTPClientRequest(url: self.configuration.url)
        request.method = head.method
        for name in self.configuration.requestHeaders {
            for value in head.headers[name] { request.headers.add(name: name, value: value) }
        }
        request.headers.replaceOrAdd(name: "X-Forwarded-Method", value: head.method.rawValue)
        request.headers.replaceOrAdd(name: "X-Forwarded-Uri", value: head.uri)
        if let host = head.headers.first(name: "Host") {
            request.headers.replaceOrAdd(name: "X-Forwarded-Host", value: host)
        }
        if let clientIP {
            request.headers.replaceOrAdd(name: "X-Forwarded-For", value: clientIP)
        }
        do {
            let deadline = NIODeadline.now() + TimeAmount(self.configuration.timeout)
            let response = try await AuthHTTPClient.shared.execute(request, deadline: deadline)
            let status = response.status
            if (200..<300).contains(status.code) {
                let copied = self.configuration.responseHeaders.flatMap { name in
                    response.headers[name].map { (name, $0) }
                }
                return .admit(copied)
            }
            guard status == .unauthorized || status == .forbidden else { throw AuthFailure.forwardAuthUnavailable }
            let body = try await response.body.collect(upTo: Self.maxBodyBytes)
            let contentType = response.headers.first(name: "Content-Type") ?? "text/plain; charset=utf-8"
            let challenges = response.headers["WWW-Authenticate"].map { ("WWW-Authenticate", $0) }
            return .refuse(
                HTTPAnswer(status: status, contentType: contentType, body: Array(body.readableBytesView), headers: challenges)
            )
        } catch {
            throw .forwardAuthUnavailable
        }
    }

}
