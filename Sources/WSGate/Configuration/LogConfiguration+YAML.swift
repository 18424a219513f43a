extension LogConfiguration {
    /// The `log` section.
    static func read(_ node: ConfigurationNode) -> LogConfiguration {
        node.mapping(onto: LogConfiguration()) { mapping, log in
            log.access = mapping.value("access").flatMap(AccessLogConfiguration.read)
        }
    }
}

extension AccessLogConfiguration {
    /// `log.access`, or `nil` when it is not a mapping (after reporting why).
    static func read(_ node: ConfigurationNode) -> AccessLogConfiguration? {
        node.mapping { mapping in
            var access = AccessLogConfiguration()
            mapping.read("format", Scalar.choice(Format.self), into: &access.format)
            mapping.read("destination", Self.parseDestination, into: &access.destination)
            return access
        }
    }

    /// `stderr` or a file path.
    private static func parseDestination(_ text: String) throws(ValueSyntaxError) -> Destination {
        guard !text.isEmpty else { throw ValueSyntaxError("expected 'stderr' or a file path") }
        return text == "stderr" ? .standardError : .file(text)
    }
}
