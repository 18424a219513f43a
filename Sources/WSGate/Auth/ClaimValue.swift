/// One JSON value of a token's payload, as decoded: what claims are compared and sent upstream as.
enum ClaimValue: Sendable, Equatable, Codable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([ClaimValue])
    case object([String: ClaimValue])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ClaimValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ClaimValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// The value as text for a header or a comparison: strings as they are, whole numbers without a
    /// fraction, booleans as `true`/`false`, a list as its items joined by `,`; `nil` for objects and null.
    var text: String? {
        switch self {
        case .string(let value): return value
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .array(let items):
            let texts = items.compactMap(\.text)
            return texts.count == items.count ? texts.joined(separator: ",") : nil
        case .object, .null: return nil
        }
    }

    /// The values a requirement is matched against: a list's items, or the value itself.
    var texts: [String] {
        if case .array(let items) = self { return items.compactMap(\.text) }
        return self.text.map { [$0] } ?? []
    }

    /// A NumericDate (RFC 7519 section 2), in seconds since 1970.
    var seconds: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}
