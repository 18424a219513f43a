/// Parses human-readable byte sizes: `65536`, `512B`, `64KiB`, `1MiB`, `2GiB` (powers of 1024) and
/// `10KB`, `1MB`, `1GB` (powers of 1000). Units are case-sensitive so `MB` and `Mb` cannot be confused.
enum ByteSize {
    /// The units and their multipliers, in the order error messages list them.
    private static let units: [(suffix: String, multiplier: Int)] = [
        ("B", 1),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
    ]

    /// The largest size any key accepts: 1 TiB. Far above any real frame, message or buffer, and low
    /// enough that sums of a few sizes (a message's frames, a leg's queue) cannot overflow `Int`.
    static let maximum = 1 << 40

    /// Returns the number of bytes `text` denotes, at most ``maximum``; zero is accepted here and
    /// rejected by the caller where a size must be positive.
    static func parse(_ text: String) throws(ValueSyntaxError) -> Int {
        let trimmed = text.trimmingASCIISpaces()
        let digits = trimmed.prefix(while: \.isASCIIDigit)
        let unit = String(trimmed[digits.endIndex...]).trimmingASCIISpaces()
        guard !digits.isEmpty else {
            throw ValueSyntaxError("invalid size '\(text)' (expected bytes, e.g. 65536, 64KiB or 1MiB)")
        }
        let multiplier: Int
        if unit.isEmpty {
            multiplier = 1
        } else if let match = Self.units.first(where: { $0.suffix == unit }) {
            multiplier = match.multiplier
        } else {
            let names = Self.units.map(\.suffix).joined(separator: ", ")
            throw ValueSyntaxError("invalid size '\(text)': unknown unit '\(unit)' (expected one of \(names))")
        }
        guard let count = Int(digits) else {
            throw ValueSyntaxError("size '\(text)' is too large (at most 1024GiB)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= Self.maximum else {
            throw ValueSyntaxError("size '\(text)' is too large (at most 1024GiB)")
        }
        return bytes
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    func trimmingASCIISpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
