import Foundation

/// An optional field that a document writes as `null` when it has no value: synthesized `Encodable`
/// leaves a `nil` optional out, and docs/stats.md promises the key.
@propertyWrapper
struct EncodedAsNull<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value = self.wrappedValue {
            try container.encode(value)
        } else {
            try container.encodeNil()
        }
    }
}

/// How the admin endpoint serializes its documents: keys sorted, so a document reads the same every
/// time, and pretty printed for the person reading it with curl.
enum StatsDocumentEncoder {
    static func encode(_ document: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
        return Array(data) + [UInt8(ascii: "\n")]
    }
}
