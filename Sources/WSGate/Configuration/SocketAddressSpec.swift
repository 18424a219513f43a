/// A host and port as written in the configuration: `127.0.0.1:8080`, `[::1]:8080`, `localhost:80`.
///
/// Kept unresolved on purpose: name resolution happens when binding or dialing, not at load time.
struct SocketAddressSpec: Sendable, Hashable, CustomStringConvertible {
    /// The host name or IP address, without brackets for IPv6.
    var host: String
    /// The TCP port, 0...65535; 0 asks the OS for an ephemeral port when binding.
    var port: Int

    /// Creates an address from its parts, without validation.
    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// The address in the form it is written in YAML; IPv6 hosts are bracketed (`[::1]:8080`).
    var description: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    /// Parses `host:port`, `[ipv6]:port` or `ipv4:port`.
    static func parse(_ text: String) throws(ValueSyntaxError) -> SocketAddressSpec {
        guard !text.contains("/") else {
            throw ValueSyntaxError("address '\(text)' must be host:port, without a scheme or path")
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ValueSyntaxError("address '\(text)' is missing the closing ']'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ValueSyntaxError("address '\(text)' is missing a port, e.g. '[::1]:8080'")
            }
            portText = rest.dropFirst()
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw ValueSyntaxError("address '\(text)' has an invalid IPv6 address in brackets")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ValueSyntaxError("address '\(text)' is missing a port, e.g. '127.0.0.1:8080'")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else {
                throw ValueSyntaxError("address '\(text)': write IPv6 addresses in brackets, e.g. '[::1]:8080'")
            }
            guard !host.isEmpty else {
                throw ValueSyntaxError("address '\(text)' is missing a host, e.g. '0.0.0.0\(text)'")
            }
            try Self.validate(hostName: host, in: text)
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText), port <= 65535 else {
            throw ValueSyntaxError("address '\(text)' has an invalid port '\(portText)' (expected 0...65535)")
        }
        return SocketAddressSpec(host: String(host), port: port)
    }

    /// Accepts dotted IPv4 addresses with octets 0...255 and DNS-style host names.
    private static func validate(hostName host: Substring, in text: String) throws(ValueSyntaxError) {
        if host.allSatisfy({ $0.isASCIIDigit || $0 == "." }) {
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && (Int($0) ?? 256) <= 255 })
            else {
                throw ValueSyntaxError("address '\(text)' has an invalid IPv4 address '\(host)'")
            }
        } else {
            let allowed = host.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "-" || $0 == "." || $0 == "_" }
            guard allowed, !host.hasPrefix("."), !host.contains("..") else {
                throw ValueSyntaxError("address '\(text)' has an invalid host name '\(host)'")
            }
        }
    }
}

extension SocketAddressSpec {
    /// Whether the host is a loopback address or `localhost` (names are not resolved).
    var isLoopback: Bool {
        let host = self.host.lowercased()
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
