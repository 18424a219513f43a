/// Logging outputs besides the process log (YAML `log`).
struct LogConfiguration: Sendable, Equatable {
    /// The access log. Default: `nil`, none.
    var access: AccessLogConfiguration?

    /// Creates a log configuration; by default no access log.
    init(access: AccessLogConfiguration? = nil) {
        self.access = access
    }
}

/// The access log (YAML `log.access`): one line per WebSocket session when it ends and one per
/// refused handshake.
struct AccessLogConfiguration: Sendable, Equatable {
    /// How each line is written.
    enum Format: String, Sendable, Equatable, CaseIterable {
        /// One JSON object per line.
        case json
        /// `key=value` pairs separated by spaces (values with spaces or quotes are quoted).
        case text
    }

    /// Where lines go.
    enum Destination: Sendable, Equatable {
        case standardError
        /// A file, opened for appending (created when missing), reopened on SIGUSR1.
        case file(String)
    }

    /// Default: `json`.
    var format: Format
    /// Default: standard error. YAML: `stderr` or a path.
    var destination: Destination

    /// Creates an access log configuration; by default JSON lines on standard error.
    init(format: Format = .json, destination: Destination = .standardError) {
        self.format = format
        self.destination = destination
    }
}
