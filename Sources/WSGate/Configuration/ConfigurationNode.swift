import Yams

/// A node of the composed YAML tree with its key path, read through one ``ConfigurationReader``.
///
/// Each accessor returns `nil` after reporting an issue, so the caller keeps its default and goes on;
/// nothing downstream reports a second issue for the same mistake.
struct ConfigurationNode {
    let node: Node
    let path: ConfigurationKeyPath
    let reader: ConfigurationReader

    /// The 1-based line the node starts on, 0 when unknown.
    var line: Int { self.node.mark?.line ?? 0 }

    /// Records an issue at this node.
    func report(_ message: String) {
        self.reader.report(message, at: self.node, path: self.path)
    }

    /// An issue at this node's position and path, for problems found after reading (a file that cannot be opened).
    func issue(_ message: String) -> ConfigurationIssue {
        self.reader.issue(message, at: self.node, path: self.path)
    }

    /// Expects a mapping of known keys and reads it with `read`; afterwards every key `read` did not
    /// read is reported as unknown, with the closest key it did read as a suggestion.
    func mapping<Value>(_ read: (ConfigurationMapping) -> Value) -> Value? {
        guard let entries = self.entries() else { return nil }
        let order = self.reader.reserveOrder()
        let mapping = ConfigurationMapping(self, entries: entries)
        let value = read(mapping)
        mapping.reportUnreadKeys(order: order)
        return value
    }

    /// Reads a mapping of known keys onto `base` (each key written changes its field); `base` itself
    /// when the node is not a mapping.
    func mapping<Value>(onto base: Value, _ read: (ConfigurationMapping, inout Value) -> Void) -> Value {
        self.mapping { mapping in
            var value = base
            read(mapping, &value)
            return value
        } ?? base
    }

    /// Expects a mapping whose keys are names (upstreams, header names), in file order.
    func entries() -> [ConfigurationEntry]? {
        guard case .mapping(let mapping) = self.node else {
            self.report("expected a mapping, found \(Self.kind(of: self.node))")
            return nil
        }
        var entries: [ConfigurationEntry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, !keyNode.isNull else {
                self.reader.report("keys must be strings, found \(Self.kind(of: keyNode))", at: keyNode, path: self.path)
                continue
            }
            let child = ConfigurationNode(node: value, path: self.path.appending(scalar.string), reader: self.reader)
            entries.append(ConfigurationEntry(key: scalar.string, keyNode: keyNode, value: child))
        }
        return entries
    }

    /// Expects a list.
    func sequence() -> [ConfigurationNode]? {
        guard case .sequence(let sequence) = self.node else {
            self.report("expected a list, found \(Self.kind(of: self.node))")
            return nil
        }
        return sequence.enumerated().map { index, item in
            ConfigurationNode(node: item, path: self.path.appending(index: index), reader: self.reader)
        }
    }

    /// Expects a scalar other than null and returns its text; numbers and booleans are taken as written.
    func string() -> String? {
        guard case .scalar(let scalar) = self.node, !self.node.isNull else {
            self.report("expected a string, found \(Self.kind(of: self.node))")
            return nil
        }
        return scalar.string
    }

    /// Expects a scalar that `parse` accepts, reporting its error message otherwise.
    func value<Value>(_ parse: (String) throws(ValueSyntaxError) -> Value) -> Value? {
        guard let text = self.string() else { return nil }
        do {
            return try parse(text)
        } catch {
            self.report(error.message)
            return nil
        }
    }

    /// How a node reads in "expected X, found Y".
    private static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar): return node.isNull ? "an empty value" : "'\(scalar.string)'"
        }
    }
}

/// One `key: value` pair of a mapping, with the key's node for issues about the key itself.
struct ConfigurationEntry {
    let key: String
    let keyNode: Node
    let value: ConfigurationNode
}

extension Node {
    /// Whether this is YAML's null (`~`, `null` or nothing at all), as opposed to a quoted empty string.
    fileprivate var isNull: Bool {
        self.tag.rawValue == Tag.Name.null.rawValue
    }
}
