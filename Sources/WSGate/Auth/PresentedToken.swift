import Foundation
import NIOHTTP1

/// A client's token and where it was found, so the request forwarded upstream can leave it out
/// (a query parameter is removed from the path, a subprotocol entry is not offered upstream, a cookie
/// is taken out of `Cookie`, a bearer `Authorization` is not relayed).
struct PresentedToken: Sendable, Equatable {
    var token: String
    /// The configured source it came from.
    var source: TokenSource
    /// The `Sec-WebSocket-Protocol` entry that carried it (prefix included), for ``TokenSource/subprotocol(prefix:)``.
    var subprotocolEntry: String?

    /// The first token the configured sources find, tried in their order; `nil` when none has one.
    static func find(in head: HTTPRequestHead, sources: [TokenSource]) -> PresentedToken? {
        for source in sources {
            switch source {
            case .bearer:
                if let token = Self.bearer(head.headers) {
                    return PresentedToken(token: token, source: source)
                }
            case .cookie(let name):
                if let token = Self.cookies(head.headers).first(where: { $0.name == name })?.value, !token.isEmpty {
                    return PresentedToken(token: token, source: source)
                }
            case .query(let name):
                if let token = Self.queryItems(head.uri).first(where: { $0.name == name })?.value, !token.isEmpty {
                    return PresentedToken(token: token, source: source)
                }
            case .subprotocol(let prefix):
                if let entry = Self.subprotocols(head.headers).first(where: { $0.hasPrefix(prefix) && $0.count > prefix.count }) {
                    return PresentedToken(token: String(entry.dropFirst(prefix.count)), source: source, subprotocolEntry: entry)
                }
            }
        }
        return nil
    }

    // MARK: What goes upstream

    /// The client's header fields without the token.
    func removed(from headers: HTTPHeaders) -> HTTPHeaders {
        var headers = headers
        switch self.source {
        case .bearer:
            headers.remove(name: "Authorization")
        case .cookie(let name):
            // The other pairs as the client wrote them (quotes included).
            let kept = headers["Cookie"].flatMap { $0.split(separator: ";") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && $0.prefix { $0 != "=" } != name }
            headers.remove(name: "Cookie")
            if !kept.isEmpty { headers.add(name: "Cookie", value: kept.joined(separator: "; ")) }
        case .query:
            break
        case .subprotocol:
            let kept = self.removed(fromSubprotocols: Self.subprotocols(headers))
            headers.remove(name: "Sec-WebSocket-Protocol")
            if !kept.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: kept.joined(separator: ", ")) }
        }
        return headers
    }

    /// A request target without the token's query parameter (other parameters kept in order).
    func removed(fromPath target: String) -> String {
        guard case .query(let name) = self.source, let mark = target.firstIndex(of: "?") else { return target }
        let kept = target[target.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false)
            .filter { Self.parameterName($0) != name }
        return kept.isEmpty ? String(target[..<mark]) : "\(target[..<mark])?\(kept.joined(separator: "&"))"
    }

    /// The offered subprotocols without the token's entry.
    func removed(fromSubprotocols offered: [String]) -> [String] {
        guard let entry = self.subprotocolEntry else { return offered }
        return offered.filter { $0 != entry }
    }

    // MARK: Parsing

    private static func bearer(_ headers: HTTPHeaders) -> String? {
        let values = headers["Authorization"]
        guard values.count == 1, let value = values.first else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// `Cookie` pairs (RFC 6265 section 5.4), every `Cookie` field in order.
    static func cookies(_ headers: HTTPHeaders) -> [(name: String, value: String)] {
        headers["Cookie"].flatMap { field in
            field.split(separator: ";").compactMap { pair -> (name: String, value: String)? in
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                guard let equals = trimmed.firstIndex(of: "=") else { return nil }
                var value = String(trimmed[trimmed.index(after: equals)...])
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                return (String(trimmed[..<equals]), value)
            }
        }
    }

    static func queryItems(_ target: String) -> [(name: String, value: String)] {
        guard let mark = target.firstIndex(of: "?") else { return [] }
        return target[target.index(after: mark)...].split(separator: "&").map { item in
            let name = Self.parameterName(item)
            let raw = item.firstIndex(of: "=").map { String(item[item.index(after: $0)...]) } ?? ""
            return (name, raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? raw)
        }
    }

    private static func parameterName(_ item: Substring) -> String {
        let raw = String(item.prefix { $0 != "=" })
        return raw.removingPercentEncoding ?? raw
    }

    private static func subprotocols(_ headers: HTTPHeaders) -> [String] {
        headers[canonicalForm: "Sec-WebSocket-Protocol"].map { String($0) }
    }
}
