import Foundation

/// Which configuration the gateway serves new connections with, and how the last reload went:
/// what `/stats` shows under its configuration fields (``Gateway/configurationStatus``).
struct ConfigurationStatus: Sendable, Equatable {
    /// 1 for the configuration the gateway started with, plus 1 for each successful reload.
    var version: Int
    /// The configuration file, when the gateway was started from one; `nil` when it was built from
    /// a ``GatewayConfiguration`` value (a reload then re-reads only the TLS files).
    var file: String?
    /// The SHA-256 of the file's bytes as loaded, lowercase hex; `nil` without a file.
    var sha256: String?
    /// When the served configuration was loaded (wall clock).
    var loadedAt: Date
    /// Why the last reload was rejected, every issue with its file, line and key path, one per line;
    /// `nil` when no reload failed since the configuration being served was loaded.
    var lastReloadError: String?
    /// When that reload was rejected; `nil` with `lastReloadError`.
    var lastReloadFailedAt: Date?

    /// Creates a status value.
    init(
        version: Int,
        file: String?,
        sha256: String?,
        loadedAt: Date,
        lastReloadError: String? = nil,
        lastReloadFailedAt: Date? = nil
    ) {
        self.version = version
        self.file = file
        self.sha256 = sha256
        self.loadedAt = loadedAt
        self.lastReloadError = lastReloadError
        self.lastReloadFailedAt = lastReloadFailedAt
    }
}
