import Yams

/// Decoding of `defaults.compression` and `routes[].compression`.
extension YAMLDecodingContext {
    static let compressionKeys = [
        "enabled", "level", "server_max_window_bits", "client_max_window_bits", "mem_level", "min_size",
        "context_takeover",
    ]

    /// Applies the keys present in `node` on top of `base`; every bad value is reported and skipped.
    mutating func decodeCompression(
        _ node: Node,
        at path: ConfigurationKeyPath,
        base: CompressionConfiguration
    ) -> CompressionConfiguration {
        var compression = base
        guard let mapping = self.mapping(node, at: path, knownKeys: Self.compressionKeys) else { return compression }
        let flags: [(key: String, field: WritableKeyPath<CompressionConfiguration, Bool>)] = [
            ("enabled", \.enabled),
            ("context_takeover", \.contextTakeover),
        ]
        for (key, field) in flags {
            if let node = mapping[key], let flag = self.value(node, at: path.appending(key), Self.parseBool) {
                compression[keyPath: field] = flag
            }
        }
        let integers: [(key: String, field: WritableKeyPath<CompressionConfiguration, Int>, range: ClosedRange<Int>)] = [
            ("level", \.level, 1...9),
            ("mem_level", \.memoryLevel, 1...9),
            ("server_max_window_bits", \.serverMaxWindowBits, 9...15),
            ("client_max_window_bits", \.clientMaxWindowBits, 9...15),
        ]
        for (key, field, range) in integers {
            if let node = mapping[key],
                let value = self.value(node, at: path.appending(key), { text throws(ValueSyntaxError) in
                    try Self.parseInteger(text, in: range)
                })
            {
                compression[keyPath: field] = value
            }
        }
        if let node = mapping["min_size"], let bytes = self.value(node, at: path.appending("min_size"), ByteSize.parse) {
            compression.minSize = bytes
        }
        return compression
    }

    static func parseBool(_ text: String) throws(ValueSyntaxError) -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw ValueSyntaxError("expected true or false, found '\(text)'")
        }
    }

    private static func parseInteger(_ text: String, in range: ClosedRange<Int>) throws(ValueSyntaxError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ValueSyntaxError("expected an integer from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }
}
