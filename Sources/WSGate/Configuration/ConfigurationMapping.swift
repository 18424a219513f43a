import Yams

/// A mapping of known keys while a value type reads it (``ConfigurationNode/mapping(_:)``).
///
/// Reading a key marks it used; when the reading ends, the keys left over are reported as unknown,
/// with the closest used key as a suggestion. So each key is written once, where it is read, and the
/// list of valid keys is the list of keys read, in the order they are read.
final class ConfigurationMapping {
    /// The mapping itself; issues about the mapping as a whole point here.
    let node: ConfigurationNode
    private let entries: [ConfigurationEntry]
    private var readKeys: [String] = []

    init(_ node: ConfigurationNode, entries: [ConfigurationEntry]) {
        self.node = node
        self.entries = entries
    }

    var path: ConfigurationKeyPath { self.node.path }

    // MARK: - Reading keys

    /// The entry for `key`, if present, marking the key used. A key read twice is a bug in the reader
    /// and is reported as one, so a test of the section finds it.
    func entry(_ key: String) -> ConfigurationEntry? {
        if self.readKeys.contains(key) {
            self.node.reader.report(
                "the key '\(key)' is read twice (a bug in the configuration reader)",
                at: self.node.node,
                path: self.path.appending(key)
            )
        } else {
            self.readKeys.append(key)
        }
        return self.entries.first { $0.key == key }
    }

    /// The value of `key`, if present.
    func value(_ key: String) -> ConfigurationNode? {
        self.entry(key)?.value
    }

    /// The value of `key` as `parse` reads it; `nil` when absent or invalid (then reported).
    func read<Value>(_ key: String, _ parse: (String) throws(ValueSyntaxError) -> Value) -> Value? {
        self.value(key)?.value(parse)
    }

    /// Sets `field` to the value of `key` when it is present and valid; keeps it otherwise.
    func read<Value>(_ key: String, _ parse: (String) throws(ValueSyntaxError) -> Value, into field: inout Value) {
        if let value = self.read(key, parse) {
            field = value
        }
    }

    /// Like ``read(_:_:into:)`` for an optional field.
    func read<Value>(_ key: String, _ parse: (String) throws(ValueSyntaxError) -> Value, into field: inout Value?) {
        if let value = self.read(key, parse) {
            field = value
        }
    }

    /// The value of a key that must be present; reported missing at the mapping otherwise.
    func required(_ key: String) -> ConfigurationNode? {
        guard let value = self.value(key) else {
            self.reportMissing(key)
            return nil
        }
        return value
    }

    /// Reports `key` missing, at the mapping.
    func reportMissing(_ key: String) {
        self.node.reader.report("missing required key '\(key)'", at: self.node.node, path: self.path.appending(key))
    }

    /// Whether `key` is written, without reading it: for rules about a key's presence.
    func contains(_ key: String) -> Bool {
        self.entries.contains { $0.key == key }
    }

    // MARK: - Rules between keys

    /// Where a broken rule is reported.
    enum Place {
        /// At the mapping.
        case mapping
        /// At the value of this key, or at the mapping when the key is not written.
        case value(String)
        /// At this key itself (the rule is about its presence), or at the mapping when it is not written.
        case key(String)
    }

    /// Reports a rule between keys broken by the value read; `keys` (dotted, relative to this mapping)
    /// are the keys the rule reads: when one of them was already reported, the rule is not, since its
    /// input is not what the user wrote.
    func reject(_ message: String, at place: Place = .mapping, about keys: [String]) {
        guard !keys.contains(where: { self.node.reader.hasIssue(under: self.path.appending($0)) }) else { return }
        switch place {
        case .mapping:
            self.node.report(message)
        case .value(let key):
            let node = self.entries.first { $0.key == key }?.value.node ?? self.node.node
            self.node.reader.report(message, at: node, path: self.path.appending(key))
        case .key(let key):
            let node = self.entries.first { $0.key == key }?.keyNode ?? self.node.node
            self.node.reader.report(message, at: node, path: self.path.appending(key))
        }
    }

    // MARK: - Unknown keys

    /// Reports every key that was not read, in file order, at the place in the report order the
    /// mapping took when it was opened (so they come before what reading the mapping found).
    func reportUnreadKeys(order: Int) {
        let unread = self.entries.filter { !self.readKeys.contains($0.key) }
        for (index, entry) in unread.enumerated() {
            let message: String
            if entry.key == "<<" {
                message = "YAML merge keys ('<<') are not supported; write the keys out"
            } else if let suggestion = entry.key.closestMatch(among: self.readKeys) {
                message = "unknown key (did you mean '\(suggestion)'?)"
            } else {
                message = "unknown key (valid keys: \(self.readKeys.joined(separator: ", ")))"
            }
            self.node.reader.report(message, at: entry.keyNode, path: entry.value.path, order: order, suborder: index + 1)
        }
    }
}
