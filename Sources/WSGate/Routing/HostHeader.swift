/// Reduces a `Host` header value to the name routes match against.
enum HostHeader {
    /// The host without its port, lowercased and without a trailing dot: `Example.COM:8080` →
    /// `example.com`, `[::1]:8080` → `::1`. `nil` for an empty or malformed value, which no host
    /// pattern matches.
    static func hostname(from value: String) -> String? {
        let trimmed = value.trimmingASCIISpaces()
        let host: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
        } else if let colon = trimmed.firstIndex(of: ":"), trimmed.lastIndex(of: ":") == colon {
            host = trimmed[..<colon]
        } else {
            host = trimmed[...]
        }
        let name = host.hasSuffix(".") ? host.dropLast() : host
        return name.isEmpty ? nil : name.lowercased()
    }
}
