import Foundation

/// What `/stats` says about the configuration being served (its `config` object).
///
/// The gateway sets version 1 and the load time at start; a configuration reload is expected to
/// call ``Gateway/recordConfigurationLoad(hash:)`` or ``Gateway/recordReloadFailure(_:)``.
public struct ConfigurationStatus: Sendable, Equatable {
    /// 1 for the configuration the gateway started with, plus one per successful reload.
    public var version: Int
    /// A digest of the configuration file's text, when the loader provides one (`nil` until then).
    public var hash: String?
    /// When the configuration in use was loaded.
    public var loadedAt: Date
    /// Why the last reload was refused, or `nil` when it succeeded (or none was tried).
    public var lastReloadError: String?

    /// The status of a configuration loaded now.
    public init(version: Int = 1, hash: String? = nil, loadedAt: Date = Date(), lastReloadError: String? = nil) {
        self.version = version
        self.hash = hash
        self.loadedAt = loadedAt
        self.lastReloadError = lastReloadError
    }
}
