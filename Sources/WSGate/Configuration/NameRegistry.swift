/// Names listeners and routes (`name`, or a generated `<kind>_<n>`) and reports invalid and duplicate names.
struct NameRegistry {
    static let invalidNameMessage = "a name must not be empty or contain whitespace"

    /// `listener` or `route`: the word in messages and the prefix of generated names.
    let kind: String
    private var seen: [String: (path: ConfigurationKeyPath, line: Int)] = [:]

    init(kind: String) {
        self.kind = kind
    }

    static func isValid(_ name: String) -> Bool {
        !name.isEmpty && !name.contains(where: \.isWhitespace)
    }

    /// The item's name: its `name` key, or `<kind>_<index + 1>` when it has none.
    mutating func register(in mapping: ConfigurationMapping, index: Int) -> String {
        let generatedName = "\(self.kind)_\(index + 1)"
        guard let node = mapping.value("name") else {
            self.checkUnique(generatedName, isGenerated: true, line: mapping.node.line, in: mapping)
            return generatedName
        }
        guard let name = node.string() else { return generatedName }
        guard Self.isValid(name) else {
            node.report(Self.invalidNameMessage)
            return generatedName
        }
        self.checkUnique(name, isGenerated: false, line: node.line, in: mapping)
        return name
    }

    private mutating func checkUnique(_ name: String, isGenerated: Bool, line: Int, in mapping: ConfigurationMapping) {
        guard let first = self.seen[name] else {
            self.seen[name] = (mapping.path, line)
            return
        }
        let subject = isGenerated ? "generated name '\(name)'" : "\(self.kind) name '\(name)'"
        let fix = isGenerated ? "; give this \(self.kind) a name" : ""
        mapping.reject(
            "\(subject) is already used by \(first.path) (line \(first.line))\(fix)",
            at: .value("name"),
            about: []
        )
    }
}
