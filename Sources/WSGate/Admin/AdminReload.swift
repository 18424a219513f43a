import Foundation
import NIOHTTP1

/// `POST /reload` on the admin listener: re-reads the configuration file (``Gateway/reload()``).
///
/// Answers: 200 with `{"version":N,"sha256":"…","loaded_at":"…"}` when the new configuration is
/// served; 422 with the error text (file, line and key of every issue) when it was rejected and the
/// old one keeps serving; 503 while the gateway shuts down.
enum AdminReload {
    /// How a reload asked for over HTTP ended.
    enum Outcome: Sendable {
        case reloaded(ConfigurationStatus)
        /// The configuration was refused; the text names every issue.
        case rejected(String)
        /// No reload is possible now (shutting down).
        case unavailable(String)
    }

    static let path = "/reload"

    /// Reloads `gateway` unless it is shutting down.
    static func reload(_ gateway: Gateway) async -> Outcome {
        guard gateway.phase == .serving else { return .unavailable("the gateway is shutting down") }
        do {
            let status = try await gateway.reload()
            return .reloaded(status)
        } catch {
            return .rejected(error.description)
        }
    }

    static func response(_ outcome: Outcome) -> HTTPAnswer {
        switch outcome {
        case .reloaded(let status):
            let sha = status.sha256.map { "\"\($0)\"" } ?? "null"
            let loaded = ISO8601DateFormatter().string(from: status.loadedAt)
            let body = "{\"version\":\(status.version),\"sha256\":\(sha),\"loaded_at\":\"\(loaded)\"}\n"
            return HTTPAnswer(status: .ok, contentType: "application/json", body: Array(body.utf8))
        case .rejected(let text):
            return .text(.unprocessableEntity, text)
        case .unavailable(let text):
            return .text(.serviceUnavailable, text)
        }
    }
}
