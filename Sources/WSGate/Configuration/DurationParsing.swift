/// Parses human-readable durations: `500ms`, `10s`, `2m`, `1h`, and a bare `0` (which some settings
/// read as "disabled"). Other bare numbers are rejected: `30` could mean seconds or milliseconds.
enum DurationParsing {
    /// The units, in the order error messages list them.
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000),
    ]

    /// Returns the duration `text` denotes; zero is accepted here and rejected by the caller where a
    /// duration must be positive.
    static func parse(_ text: String) throws(ValueSyntaxError) -> Duration {
        let trimmed = text.trimmingASCIISpaces()
        let digits = trimmed.prefix(while: \.isASCIIDigit)
        let unit = String(trimmed[digits.endIndex...]).trimmingASCIISpaces()
        let names = Self.units.map(\.suffix).joined(separator: ", ")
        guard !digits.isEmpty else {
            throw ValueSyntaxError("invalid duration '\(text)' (expected e.g. 500ms, 10s, 2m or 1h)")
        }
        guard let count = Int64(digits) else {
            throw ValueSyntaxError("duration '\(text)' is too large")
        }
        if unit.isEmpty {
            guard count == 0 else {
                throw ValueSyntaxError("duration '\(text)' needs a unit (one of \(names)), e.g. '\(digits)s'")
            }
            return .zero
        }
        guard let match = Self.units.first(where: { $0.suffix == unit }) else {
            throw ValueSyntaxError("invalid duration '\(text)': unknown unit '\(unit)' (expected one of \(names))")
        }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: match.milliseconds)
        guard !overflow else {
            throw ValueSyntaxError("duration '\(text)' is too large")
        }
        return .milliseconds(milliseconds)
    }
}
