import Yams

/// Where a value sits in the configuration, printed as `routes[1].match.path_prefix`.
struct ConfigurationKeyPath: CustomStringConvertible {
    /// The path of the document root, printed as the empty string.
    static let root = ConfigurationKeyPath(description: "")

    let description: String

    /// The path of a mapping entry below this one.
    func appending(_ key: String) -> ConfigurationKeyPath {
        ConfigurationKeyPath(description: self.description.isEmpty ? key : "\(self.description).\(key)")
    }

    /// The path of a list element below this one; indexes count from 0.
    func appending(index: Int) -> ConfigurationKeyPath {
        ConfigurationKeyPath(description: "\(self.description)[\(index)]")
    }
}

/// A YAML mapping whose keys are all strings, with the path it was found at.
struct YAMLMapping {
    /// One `key: value` pair, with the key's node for positions.
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// The mapping node itself; "missing key" issues point here.
    let node: Node
    let path: ConfigurationKeyPath
    /// The entries in file order.
    let entries: [Entry]

    /// The value for `key`, if present.
    subscript(key: String) -> Node? {
        self.entries.first { $0.key == key }?.value
    }

    /// The key node for `key`, if present; issues about the key's presence point here.
    func keyNode(_ key: String) -> Node? {
        self.entries.first { $0.key == key }?.keyNode
    }
}

/// Walks a composed YAML tree for the configuration decoder: checks node kinds and keys, records key
/// paths, and collects every issue instead of stopping at the first.
///
/// Each accessor returns `nil` after recording an issue, so the caller simply skips that value and
/// goes on; nothing downstream reports a second issue for the same mistake.
struct YAMLDecodingContext {
    let file: String
    private(set) var issues: [ConfigurationIssue] = []

    init(file: String) {
        self.file = file
    }

    /// Records an issue at `node`'s position.
    mutating func report(_ message: String, at node: Node, path: ConfigurationKeyPath) {
        let mark = node.mark
        self.report(message, line: mark?.line ?? 0, column: mark?.column ?? 0, path: path)
    }

    /// Records an issue at an explicit position (1-based; 0 for none).
    mutating func report(_ message: String, line: Int, column: Int, path: ConfigurationKeyPath) {
        self.issues.append(
            ConfigurationIssue(file: self.file, line: line, column: column, keyPath: path.description, message: message)
        )
    }

    /// Expects a mapping with string keys. With `knownKeys`, every other key is reported as unknown
    /// (with a suggestion when one is close); with `nil` the keys are free-form names.
    mutating func mapping(_ node: Node, at path: ConfigurationKeyPath, knownKeys: [String]?) -> YAMLMapping? {
        guard case .mapping(let mapping) = node else {
            self.report("expected a mapping, found \(Self.kind(of: node))", at: node, path: path)
            return nil
        }
        var entries: [YAMLMapping.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, !keyNode.isNull else {
                self.report("keys must be strings, found \(Self.kind(of: keyNode))", at: keyNode, path: path)
                continue
            }
            let key = scalar.string
            if let knownKeys, !knownKeys.contains(key) {
                let message: String
                if key == "<<" {
                    message = "YAML merge keys ('<<') are not supported; write the keys out"
                } else if let suggestion = key.closestMatch(among: knownKeys) {
                    message = "unknown key (did you mean '\(suggestion)'?)"
                } else {
                    message = "unknown key (valid keys: \(knownKeys.joined(separator: ", ")))"
                }
                self.report(message, at: keyNode, path: path.appending(key))
                continue
            }
            entries.append(YAMLMapping.Entry(key: key, keyNode: keyNode, value: value))
        }
        return YAMLMapping(node: node, path: path, entries: entries)
    }

    /// Expects a list.
    mutating func sequence(_ node: Node, at path: ConfigurationKeyPath) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            self.report("expected a list, found \(Self.kind(of: node))", at: node, path: path)
            return nil
        }
        return Array(sequence)
    }

    /// Expects a scalar other than null and returns its text; numbers and booleans are taken as written.
    mutating func string(_ node: Node, at path: ConfigurationKeyPath) -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            self.report("expected a string, found \(Self.kind(of: node))", at: node, path: path)
            return nil
        }
        return scalar.string
    }

    /// Expects a scalar that `parse` accepts, reporting its error message otherwise.
    mutating func value<Value>(
        _ node: Node,
        at path: ConfigurationKeyPath,
        _ parse: (String) throws(ValueSyntaxError) -> Value
    ) -> Value? {
        guard let text = self.string(node, at: path) else { return nil }
        do {
            return try parse(text)
        } catch {
            self.report(error.message, at: node, path: path)
            return nil
        }
    }

    /// The value of a key that must be present; reports it missing at the mapping otherwise.
    mutating func required(_ key: String, in mapping: YAMLMapping) -> Node? {
        guard let value = mapping[key] else {
            self.report("missing required key '\(key)'", at: mapping.node, path: mapping.path.appending(key))
            return nil
        }
        return value
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

extension Node {
    /// Whether this is YAML's null (`~`, `null` or nothing at all), as opposed to a quoted empty string.
    fileprivate var isNull: Bool {
        self.tag.rawValue == Tag.Name.null.rawValue
    }
}
