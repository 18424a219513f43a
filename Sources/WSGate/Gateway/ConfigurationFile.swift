import Crypto
import Foundation

/// A configuration file as read for a start or a reload: its decoded configuration and the digest
/// of the exact bytes decoded, so `/stats` can tell which version of the file is served.
struct ConfigurationFile: Sendable {
    let path: String
    let configuration: GatewayConfiguration
    /// SHA-256 of the bytes, lowercase hex.
    let sha256: String

    /// Reads and decodes `path` (blocking disk I/O).
    ///
    /// - Throws: ``ConfigurationError``: every problem in the file with its line and key path, or one
    ///   issue naming the file when it cannot be read or is not UTF-8.
    static func load(_ path: String) throws(ConfigurationError) -> ConfigurationFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Self.fileError(path, "cannot read the configuration file: \(Self.describe(error))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Self.fileError(path, "cannot read the configuration file: the file is not valid UTF-8")
        }
        let configuration = try GatewayConfiguration.parse(yaml: text, file: path)
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return ConfigurationFile(path: path, configuration: configuration, sha256: digest)
    }

    private static func fileError(_ path: String, _ message: String) -> ConfigurationError {
        ConfigurationError(issues: [ConfigurationIssue(file: path, line: 0, column: 0, keyPath: "", message: message)])
    }

    private static func describe(_ error: any Error) -> String {
        switch (error as? CocoaError)?.code {
        case .fileReadNoSuchFile?: return "no such file"
        case .fileReadNoPermission?: return "permission denied"
        default: return "\(error)"
        }
    }
}
