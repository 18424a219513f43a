import NIOCore

/// A `Host` header value, `host[:port]` (RFC 9110 section 7.2), checked and split.
///
/// The host is a DNS name or IPv4 address (letters, digits, `-`, `.`, `_`, `~`) or a bracketed IPv6
/// address. That is narrower than RFC 3986's reg-name on purpose: sub-delimiters (`;`, `,`, `=`, …),
/// quotes and percent-escapes appear in no real host name, and they are what a forged Host uses to
/// inject parameters into `Forwarded` or to confuse the upstream's own parsing.
struct HostHeader {
    /// The host lowercased, without brackets, port or a trailing dot: `Example.COM.:8080` →
    /// `example.com`, `[::1]:8080` → `::1`.
    var hostname: String

    /// `nil` when `value` is not `host[:port]`.
    init?(_ value: String) {
        let trimmed = value.trimmingASCIISpaces()
        let host: Substring
        let rest: Substring
        if trimmed.hasPrefix("[") {
            guard let close = trimmed.firstIndex(of: "]") else { return nil }
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            guard host.contains(":"), (try? SocketAddress(ipAddress: String(host), port: 0)) != nil else { return nil }
            rest = trimmed[trimmed.index(after: close)...]
        } else {
            let colon = trimmed.firstIndex(of: ":") ?? trimmed.endIndex
            host = trimmed[..<colon]
            guard host.utf8.allSatisfy(Self.isNameByte) else { return nil }
            rest = trimmed[colon...]
        }
        if !rest.isEmpty {
            let digits = rest.dropFirst()
            guard rest.first == ":", (1...5).contains(digits.count), digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                let port = Int(digits), port <= 65535
            else { return nil }
        }
        let name = host.hasSuffix(".") ? host.dropLast() : host
        guard !name.isEmpty else { return nil }
        self.hostname = name.lowercased()
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
