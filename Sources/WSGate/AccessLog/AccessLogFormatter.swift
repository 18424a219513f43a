import Foundation
import NIOCore

/// Turns access log entries into lines, `json` (one object per line) or `text` (`key=value` pairs).
/// Used only by the ``AccessLog`` writer queue, one instance per log.
final class AccessLogFormatter {
    let format: AccessLogConfiguration.Format
    private let dateFormatter: ISO8601DateFormatter

    init(format: AccessLogConfiguration.Format) {
        self.format = format
        self.dateFormatter = ISO8601DateFormatter()
        self.dateFormatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    /// The entry's line, ending in a newline.
    func line(_ entry: AccessLogEntry) -> String {
        let time = self.dateFormatter.string(from: entry.time)
        switch self.format {
        case .json:
            let members =
                [Self.jsonString("time") + ":" + Self.jsonString(time)]
                + entry.fields.map { Self.jsonString($0.key) + ":" + Self.json($0.value) }
            return "{" + members.joined(separator: ",") + "}\n"
        case .text:
            let pairs =
                ["time=" + time] + entry.fields.compactMap { field in Self.text(field.value).map { field.key + "=" + $0 } }
            return pairs.joined(separator: " ") + "\n"
        }
    }

    private static func json(_ value: AccessLogValue) -> String {
        switch value {
        case .string(let text): return Self.jsonString(text)
        case .optionalString(let text): return text.map(Self.jsonString) ?? "null"
        case .integer(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .milliseconds(let amount): return Self.milliseconds(amount)
        }
    }

    private static func text(_ value: AccessLogValue) -> String? {
        switch value {
        case .string(let text): return Self.textValue(text)
        case .optionalString(let text): return text.map(Self.textValue)
        case .integer(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .milliseconds(let amount): return Self.milliseconds(amount)
        }
    }

    /// Milliseconds with three decimals.
    private static func milliseconds(_ amount: TimeAmount) -> String {
        let microseconds = amount.nanoseconds / 1000
        let fraction = String(microseconds % 1000)
        return "\(microseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A text value as is, or JSON-quoted when it is empty or holds spaces, quotes, `=` or controls.
    private static func textValue(_ text: String) -> String {
        let plain =
            !text.isEmpty && !text.unicodeScalars.contains { $0.value <= 0x20 || $0 == "\"" || $0 == "=" || $0.value == 0x7F }
        return plain ? text : Self.jsonString(text)
    }

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

@available(*, unavailable)
extension AccessLogFormatter: Sendable {}
