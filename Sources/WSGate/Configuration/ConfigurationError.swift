/// Everything wrong with a configuration file, collected in one pass so a user can fix all of it at once.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems found, in file order.
    var issues: [ConfigurationIssue]

    /// Creates an error from its issues.
    init(issues: [ConfigurationIssue]) {
        self.issues = issues
    }

    /// One issue per line, each as `file:line:column: key.path: message`.
    public var description: String {
        self.issues.map(\.description).joined(separator: "\n")
    }
}

/// One problem in a configuration file, pinned to the place that has to change.
struct ConfigurationIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file as it was named to the loader.
    var file: String
    /// The 1-based line, or 0 when the problem has no position (e.g. the file cannot be read).
    var line: Int
    /// The 1-based column, or 0 when the problem has no position.
    var column: Int
    /// The dotted path to the offending key, e.g. `routes[1].match.path_prefix` (list indexes count
    /// from 0), or empty when the problem is not about a key (YAML syntax, unreadable file).
    var keyPath: String
    /// What is wrong, and where possible how to fix it.
    var message: String

    /// Creates an issue.
    init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line:column: key.path: message`, in the format compilers use so editors can jump to it;
    /// the position is left out when `line` is 0 and the key path when it is empty.
    var description: String {
        let position = self.line > 0 ? "\(self.file):\(self.line):\(self.column)" : self.file
        return self.keyPath.isEmpty
            ? "\(position): \(self.message)"
            : "\(position): \(self.keyPath): \(self.message)"
    }
}

/// Why a single scalar (a size, duration, address or pattern) is malformed; the decoder turns it into
/// a ``ConfigurationIssue`` with the scalar's position.
struct ValueSyntaxError: Error {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}
