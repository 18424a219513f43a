import Yams

extension ConfigurationIssue {
    /// Turns a Yams syntax error into an issue at the position libyaml reported.
    init(yamlError: any Error, file: String) {
        let (line, column, message): (Int, Int, String)
        switch yamlError as? YamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            (line, column, message) = (mark.line, mark.column, "invalid YAML: \(problem)\(detail)")
        case .reader(let problem, let offset, _, let yaml):
            let position = offset.map { Self.lineAndColumn(ofCharacterOffset: $0, in: yaml) } ?? (line: 0, column: 0)
            (line, column, message) = (position.line, position.column, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            (line, column, message) = (context.mark.line, context.mark.column, "duplicate key \(keys) in one mapping")
        case .no, .memory, .writer, .emitter, .representer, .dataCouldNotBeDecoded, nil:
            (line, column, message) = (0, 0, "invalid YAML: \(yamlError)")
        }
        self.init(file: file, line: line, column: column, keyPath: "", message: message)
    }

    private static func lineAndColumn(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var (line, column) = (1, 1)
        for character in text.prefix(offset) {
            if character == "\n" {
                (line, column) = (line + 1, 1)
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
