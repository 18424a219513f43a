import Foundation

/// One scenario run against one target: what `wsgate-bench run` prints as a JSON line and what
/// `wsgate-bench report` reads back. Absent fields do not apply to the scenario (or no
/// `--server-pid` was given).
struct ScenarioResult: Codable, Sendable {
    var scenario: String
    /// The label given with `--target` (direct, wsgate, nginx, ...).
    var target: String
    /// Connections opened for the scenario (for `hol`, the active ones); with `--http2`, streams.
    var connections: Int
    /// `--http2`: the HTTP/2 connections that carried the `connections` WebSockets as streams.
    var http2Connections: Int?
    var payloadBytes: Int?
    var window: Int?
    /// `hol`: stalled clients (0 or 1).
    var stalled: Int?
    /// Measured wall time, warm-up excluded.
    var durationSeconds: Double?
    /// Messages echoed back to the clients while measuring (each crossed a proxy twice).
    var messages: Int?
    var messagesPerSecond: Double?
    /// Echoed payload bytes per second, in 10^6 bytes (one direction).
    var megabytesPerSecond: Double?
    var p50Microseconds: Double?
    var p99Microseconds: Double?
    /// Connections that failed to open, closed unexpectedly or saw a protocol violation.
    var errors: Int
    var errorSamples: [String]?
    /// User + system CPU time of the `--server-pid` processes while measuring.
    var serverCPUSeconds: Double?
    var cpuSecondsPerMillionMessages: Double?
    /// Sum of the `--server-pid` processes' VmRSS before opening connections and at the end.
    var rssBeforeKiB: Int?
    var rssAfterKiB: Int?
    /// `idle`: (after − before) / connections (per stream with `--http2`).
    var rssPerConnectionKiB: Double?
    /// `idle`: connections opened (TCP + upgrade) per second during the ramp.
    var connectsPerSecond: Double?
    /// `hol`: whether the server closed the stalled client (counted, not an error).
    var stalledClosed: Int?
    /// Scenarios offering permessage-deflate: connections whose server accepted it (0 for servers
    /// that cannot terminate it, which then ran the scenario uncompressed).
    var deflateConnections: Int?

    enum CodingKeys: String, CodingKey {
        case scenario, target, connections, window, stalled, messages, errors
        case payloadBytes = "payload_bytes"
        case durationSeconds = "duration_s"
        case messagesPerSecond = "msgs_per_s"
        case megabytesPerSecond = "mb_per_s"
        case p50Microseconds = "p50_us"
        case p99Microseconds = "p99_us"
        case errorSamples = "error_samples"
        case serverCPUSeconds = "server_cpu_s"
        case cpuSecondsPerMillionMessages = "cpu_s_per_m_msgs"
        case rssBeforeKiB = "rss_before_kib"
        case rssAfterKiB = "rss_after_kib"
        case rssPerConnectionKiB = "rss_per_conn_kib"
        case connectsPerSecond = "connects_per_s"
        case stalledClosed = "stalled_closed"
        case deflateConnections = "deflate_conns"
        case http2Connections = "http2_conns"
    }

    func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The scenario and, for `hol`, its variant, as shown in tables.
    var caseName: String {
        if let stalled = self.stalled {
            return "\(self.scenario) stalled=\(stalled)"
        }
        return self.scenario
    }
}

extension Double {
    /// Rounded to `places` decimals (keeps JSON lines short).
    func rounded(places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

/// Formats a number for a table: thousands grouped, few decimals.
func formatFigure(_ value: Double?) -> String {
    guard let value else { return "–" }
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
    let text = String(format: "%.\(decimals)f", value)
    guard decimals == 0, magnitude >= 10_000 else { return text }
    var digits = Array(text)
    var index = digits.count - 3
    while index > (value < 0 ? 1 : 0) {
        digits.insert(",", at: index)
        index -= 3
    }
    return String(digits)
}

/// A plain-text table (Markdown pipe syntax, so it pastes into the README).
func markdownTable(header: [String], rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count {
            widths[index] = max(widths[index], cell.count)
        }
    }
    func line(_ cells: [String]) -> String {
        let padded = cells.enumerated().map { index, cell in
            cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
        }
        return "| " + padded.joined(separator: " | ") + " |"
    }
    var lines = [line(header), "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|"]
    lines += rows.map(line)
    return lines.joined(separator: "\n")
}
