/// The parameters both sides agreed for permessage-deflate on one connection (RFC 7692 section 7).
struct PerMessageDeflateAgreement: Equatable, Sendable {
    /// The gateway resets its compressor after every message.
    var serverNoContextTakeover: Bool
    /// The client resets its compressor after every message, so the gateway's inflater may too.
    var clientNoContextTakeover: Bool
    /// The window the gateway compresses with (9...15; an offer of 8 is served with 9, see below).
    var serverWindowBits: Int
    /// The window the gateway inflates with (9...15).
    var clientWindowBits: Int
    /// The `Sec-WebSocket-Extensions` value for the 101 response.
    var responseHeader: String
}

/// Chooses a client's permessage-deflate offer, per RFC 7692 section 7, as a pure value.
///
/// Offers are tried in the client's order; the first one that is valid and that the gateway can
/// honour is accepted, the others declined. An invalid offer (unknown or repeated parameter, bad value)
/// is declined, not fatal: the connection falls back to the next offer, or to no compression.
///
/// zlib cannot compress raw deflate with an 8-bit window. An offer of `server_max_window_bits=8` is
/// accepted (answered with 8) and served with a 9-bit window: zlib never emits a distance beyond
/// 2^bits - 262 bytes, which for 9 bits is 250, within the 256 bytes the client keeps. The inflater
/// always uses at least 9 bits, which inflates anything a client compressed with 8.
struct PerMessageDeflateNegotiation {
    let configuration: CompressionConfiguration

    init(configuration: CompressionConfiguration) {
        self.configuration = configuration
    }

    /// Negotiates from the values of every `Sec-WebSocket-Extensions` request header (in order).
    /// Returns nil when compression is disabled or no offer can be accepted.
    func negotiate(_ headerValues: [String]) -> PerMessageDeflateAgreement? {
        guard self.configuration.enabled else { return nil }
        for offer in ExtensionHeaderParser.parse(headerValues.joined(separator: ",")) where offer.name == "permessage-deflate" {
            if let agreement = self.accept(offer) {
                return agreement
            }
        }
        return nil
    }

    private func accept(_ offer: ExtensionOffer) -> PerMessageDeflateAgreement? {
        var serverNoContextTakeover = false
        var clientNoContextTakeover = false
        var serverMaxWindowBits: Int?
        // nil: not offered; .some(nil): offered without a value.
        var clientMaxWindowBits: Int??
        var seen: Set<String> = []
        for parameter in offer.parameters {
            guard seen.insert(parameter.name).inserted else { return nil }
            switch parameter.name {
            case "server_no_context_takeover":
                guard parameter.value == nil else { return nil }
                serverNoContextTakeover = true
            case "client_no_context_takeover":
                guard parameter.value == nil else { return nil }
                clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let bits = parameter.value.flatMap(Self.windowBits) else { return nil }
                serverMaxWindowBits = bits
            case "client_max_window_bits":
                if let value = parameter.value {
                    guard let bits = Self.windowBits(value) else { return nil }
                    clientMaxWindowBits = .some(bits)
                } else {
                    clientMaxWindowBits = .some(nil)
                }
            default:
                return nil
            }
        }

        var response = ["permessage-deflate"]
        let forceNoContextTakeover = !self.configuration.contextTakeover
        let serverReset = serverNoContextTakeover || forceNoContextTakeover
        let clientReset = clientNoContextTakeover || forceNoContextTakeover
        if serverReset { response.append("server_no_context_takeover") }
        if clientReset { response.append("client_no_context_takeover") }

        var serverWindowBits = self.configuration.serverMaxWindowBits
        if let requested = serverMaxWindowBits {
            // Answered only when offered (section 7.1.2.1), with the same or a smaller value.
            let answer = min(requested, serverWindowBits)
            response.append("server_max_window_bits=\(answer)")
            serverWindowBits = max(answer, 9)
        }

        var clientWindowBits = 15
        if let offered = clientMaxWindowBits {
            // The client's limit, or ours if smaller; answered only when offered (section 7.1.2.2).
            let answer = min(offered ?? 15, self.configuration.clientMaxWindowBits)
            if answer < 15 || offered != nil {
                response.append("client_max_window_bits=\(answer)")
            }
            clientWindowBits = max(answer, 9)
        }
        return PerMessageDeflateAgreement(
            serverNoContextTakeover: serverReset,
            clientNoContextTakeover: clientReset,
            serverWindowBits: serverWindowBits,
            clientWindowBits: clientWindowBits,
            responseHeader: response.joined(separator: "; ")
        )
    }

    /// A window-bits value: a decimal 8...15 without leading zeros (section 7.1.2).
    private static func windowBits(_ text: String) -> Int? {
        guard !text.hasPrefix("0"), text.allSatisfy(\.isASCIIDigit), let bits = Int(text), (8...15).contains(bits) else {
            return nil
        }
        return bits
    }
}

/// One extension offer from `Sec-WebSocket-Extensions`: its name and parameters in order.
struct ExtensionOffer: Equatable {
    struct Parameter: Equatable {
        var name: String
        /// The value, unquoted; nil when the parameter has none.
        var value: String?
    }

    var name: String
    var parameters: [Parameter]
}

/// Parses `Sec-WebSocket-Extensions` (RFC 6455 section 9.1): a comma-separated list of
/// `name *(";" param [ "=" (token / quoted-string) ])`. A syntactically broken offer is left out
/// (so it is declined) without affecting the others.
enum ExtensionHeaderParser {
    static func parse(_ header: String) -> [ExtensionOffer] {
        Self.splitOutsideQuotes(Substring(header), separator: ",").compactMap(Self.parseOffer)
    }

    private static func parseOffer(_ text: Substring) -> ExtensionOffer? {
        let parts = Self.splitOutsideQuotes(text, separator: ";")
        guard let first = parts.first else { return nil }
        let name = first.trimmingOWS
        guard name.isHTTPToken else { return nil }
        var parameters: [ExtensionOffer.Parameter] = []
        for part in parts.dropFirst() {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let parameterName = pieces[0].trimmingOWS
            guard parameterName.isHTTPToken else { return nil }
            guard pieces.count == 2 else {
                parameters.append(.init(name: parameterName.lowercased(), value: nil))
                continue
            }
            var value = pieces[1].trimmingOWS
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else { return nil }
                value = Self.unquote(value.dropFirst().dropLast())
            }
            // A quoted value must still be a token after unquoting (RFC 6455 section 9.1).
            guard value.isHTTPToken else { return nil }
            parameters.append(.init(name: parameterName.lowercased(), value: String(value)))
        }
        return ExtensionOffer(name: name.lowercased(), parameters: parameters)
    }

    /// Splits on `separator` where it is not inside a quoted string.
    private static func splitOutsideQuotes(_ text: Substring, separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var inQuotes = false
        var escaped = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if escaped {
                escaped = false
            } else if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
            } else if character == separator && !inQuotes {
                parts.append(text[start..<index])
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        parts.append(text[start...])
        return parts.filter { !$0.trimmingOWS.isEmpty || separator == ";" }
    }

    private static func unquote(_ text: Substring) -> Substring {
        var result = ""
        var escaped = false
        for character in text {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return Substring(result)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs (HTTP optional whitespace).
    fileprivate var trimmingOWS: Substring {
        var view = self
        while view.first == " " || view.first == "\t" { view = view.dropFirst() }
        while view.last == " " || view.last == "\t" { view = view.dropLast() }
        return view
    }
}
