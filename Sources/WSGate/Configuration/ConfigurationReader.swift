import Yams

/// Where a value sits in the configuration, printed as `routes[1].match.path_prefix`.
struct ConfigurationKeyPath: CustomStringConvertible {
    /// The path of the document root, printed as the empty string.
    static let root = ConfigurationKeyPath(description: "")

    let description: String

    /// The path of a mapping entry below this one; `key` may itself be dotted (`match.path_prefix`).
    func appending(_ key: String) -> ConfigurationKeyPath {
        ConfigurationKeyPath(description: self.description.isEmpty ? key : "\(self.description).\(key)")
    }

    /// The path of a list element below this one; indexes count from 0.
    func appending(index: Int) -> ConfigurationKeyPath {
        ConfigurationKeyPath(description: "\(self.description)[\(index)]")
    }

    /// Whether `other` is this path or lies below it.
    func contains(_ other: String) -> Bool {
        guard other.hasPrefix(self.description) else { return false }
        let rest = other.dropFirst(self.description.count)
        return rest.isEmpty || rest.hasPrefix(".") || rest.hasPrefix("[")
    }
}

/// Collects the issues of one configuration file while its value types read themselves from it.
/// Nothing stops at the first issue: a reader that finds one reports it and goes on with a default, so
/// the user sees every problem of the file at once.
final class ConfigurationReader {
    let file: String
    /// The issues with their place in the report order, for ties at one position.
    private var issues: [(issue: ConfigurationIssue, order: Int, suborder: Int)] = []
    private var nextOrder = 0

    private init(file: String) {
        self.file = file
    }

    /// Composes `yaml` and hands its root (`nil` for an empty document) to `read`.
    ///
    /// - Throws: ``ConfigurationError`` with the YAML syntax error, or with every issue `read` reported,
    ///   in file order.
    static func read<Value>(
        yaml: String,
        file: String,
        _ read: (_ root: ConfigurationNode?, _ reader: ConfigurationReader) -> Value
    ) throws(ConfigurationError) -> Value {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigurationError(issues: [ConfigurationIssue(yamlError: error, file: file)])
        }
        let reader = ConfigurationReader(file: file)
        let value = read(root.map { ConfigurationNode(node: $0, path: .root, reader: reader) }, reader)
        let issues = reader.issuesInFileOrder
        guard issues.isEmpty else {
            throw ConfigurationError(issues: issues)
        }
        return value
    }

    /// The issues in file order; issues at one position keep the order they were found in.
    private var issuesInFileOrder: [ConfigurationIssue] {
        self.issues.sorted {
            ($0.issue.line, $0.issue.column, $0.order, $0.suborder) < ($1.issue.line, $1.issue.column, $1.order, $1.suborder)
        }.map(\.issue)
    }

    /// Records an issue at `node`'s position.
    func report(_ message: String, at node: Node, path: ConfigurationKeyPath) {
        self.report(message, at: node, path: path, order: self.reserveOrder(), suborder: 0)
    }

    /// Records an issue at an explicit position (1-based; 0 for none).
    func report(_ message: String, line: Int, column: Int, path: ConfigurationKeyPath) {
        let issue = ConfigurationIssue(file: self.file, line: line, column: column, keyPath: path.description, message: message)
        self.issues.append((issue, self.reserveOrder(), 0))
    }

    /// Records an issue at a place in the report order taken earlier with ``reserveOrder()``.
    func report(_ message: String, at node: Node, path: ConfigurationKeyPath, order: Int, suborder: Int) {
        self.issues.append((self.issue(message, at: node, path: path), order, suborder))
    }

    /// An issue at `node`'s position, not recorded.
    func issue(_ message: String, at node: Node, path: ConfigurationKeyPath) -> ConfigurationIssue {
        let mark = node.mark
        return ConfigurationIssue(
            file: self.file,
            line: mark?.line ?? 0,
            column: mark?.column ?? 0,
            keyPath: path.description,
            message: message
        )
    }

    /// The next place in the report order, for issues that are found later but belong earlier.
    func reserveOrder() -> Int {
        defer { self.nextOrder += 1 }
        return self.nextOrder
    }

    /// Whether an issue was reported at `path` or below it.
    func hasIssue(under path: ConfigurationKeyPath) -> Bool {
        self.issues.contains { path.contains($0.issue.keyPath) }
    }
}
