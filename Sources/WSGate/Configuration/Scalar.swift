/// The scalar syntaxes of the configuration file. Each parser turns the text of one scalar into a value
/// or throws the message reported at that scalar; the "greater than 0" rules live here, once each.
enum Scalar {
    // MARK: - Booleans and numbers

    /// `true` or `false`, nothing else (YAML 1.1's `yes`/`on` are refused: they are too easy to misread).
    static func bool(_ text: String) throws(ValueSyntaxError) -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw ValueSyntaxError("expected true or false, found '\(text)'")
        }
    }

    /// A whole number, 0 or more.
    static func wholeNumber(_ text: String) throws(ValueSyntaxError) -> Int {
        guard let count = Int(text), count >= 0 else { throw ValueSyntaxError("'\(text)' is not a whole number") }
        return count
    }

    /// A whole number above 0.
    static func positiveWholeNumber(_ text: String) throws(ValueSyntaxError) -> Int {
        let count = try Self.wholeNumber(text)
        guard count > 0 else { throw ValueSyntaxError("must be greater than 0") }
        return count
    }

    /// A whole number in `range`.
    static func wholeNumber(in range: ClosedRange<Int>) -> (String) throws(ValueSyntaxError) -> Int {
        { text throws(ValueSyntaxError) in try Self.number(text, in: range, noun: "a whole number") }
    }

    /// A number in `range`, worded "an integer" (the zlib parameters' wording, kept as tests read it).
    static func integer(in range: ClosedRange<Int>) -> (String) throws(ValueSyntaxError) -> Int {
        { text throws(ValueSyntaxError) in try Self.number(text, in: range, noun: "an integer") }
    }

    private static func number(_ text: String, in range: ClosedRange<Int>, noun: String) throws(ValueSyntaxError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ValueSyntaxError("expected \(noun) from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }

    // MARK: - Sizes

    /// The byte-size units and their multipliers, in the order error messages list them. Units are
    /// case-sensitive so `MB` and `Mb` cannot be confused.
    private static let sizeUnits: [(suffix: String, multiplier: Int)] = [
        ("B", 1),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
    ]

    /// The largest size any key accepts: 1 TiB. Far above any real frame, message or buffer, and low
    /// enough that sums of a few sizes (a message's frames, a leg's queue) cannot overflow `Int`.
    static let maximumSize = 1 << 40

    /// A byte size: `65536`, `512B`, `64KiB`, `1MiB`, `2GiB` (powers of 1024) or `10KB`, `1MB`, `1GB`
    /// (powers of 1000), at most ``maximumSize``; 0 included.
    static func size(_ text: String) throws(ValueSyntaxError) -> Int {
        let trimmed = text.trimmingASCIISpaces()
        let digits = trimmed.prefix(while: \.isASCIIDigit)
        let unit = String(trimmed[digits.endIndex...]).trimmingASCIISpaces()
        guard !digits.isEmpty else {
            throw ValueSyntaxError("invalid size '\(text)' (expected bytes, e.g. 65536, 64KiB or 1MiB)")
        }
        let multiplier: Int
        if unit.isEmpty {
            multiplier = 1
        } else if let match = Self.sizeUnits.first(where: { $0.suffix == unit }) {
            multiplier = match.multiplier
        } else {
            let names = Self.sizeUnits.map(\.suffix).joined(separator: ", ")
            throw ValueSyntaxError("invalid size '\(text)': unknown unit '\(unit)' (expected one of \(names))")
        }
        guard let count = Int(digits) else {
            throw ValueSyntaxError("size '\(text)' is too large (at most 1024GiB)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= Self.maximumSize else {
            throw ValueSyntaxError("size '\(text)' is too large (at most 1024GiB)")
        }
        return bytes
    }

    /// A byte size above 0.
    static func positiveSize(_ text: String) throws(ValueSyntaxError) -> Int {
        let bytes = try Self.size(text)
        guard bytes > 0 else { throw ValueSyntaxError("size must be greater than 0") }
        return bytes
    }

    // MARK: - Durations

    /// The duration units, in the order error messages list them.
    private static let durationUnits: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000),
    ]

    /// A duration: `500ms`, `10s`, `2m`, `1h`, or a bare `0` (which some settings read as "disabled").
    /// Other bare numbers are refused: `30` could mean seconds or milliseconds.
    static func duration(_ text: String) throws(ValueSyntaxError) -> Duration {
        let trimmed = text.trimmingASCIISpaces()
        let digits = trimmed.prefix(while: \.isASCIIDigit)
        let unit = String(trimmed[digits.endIndex...]).trimmingASCIISpaces()
        let names = Self.durationUnits.map(\.suffix).joined(separator: ", ")
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
        guard let match = Self.durationUnits.first(where: { $0.suffix == unit }) else {
            throw ValueSyntaxError("invalid duration '\(text)': unknown unit '\(unit)' (expected one of \(names))")
        }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: match.milliseconds)
        guard !overflow else {
            throw ValueSyntaxError("duration '\(text)' is too large")
        }
        return .milliseconds(milliseconds)
    }

    /// A duration above 0, for settings where 0 does not mean "disabled".
    static func positiveDuration(_ text: String) throws(ValueSyntaxError) -> Duration {
        let duration = try Self.duration(text)
        guard duration > .zero else { throw ValueSyntaxError("duration must be greater than 0") }
        return duration
    }

    // MARK: - Names

    /// One of a small set of words, refused as "must be 'a' or 'b', not 'x'".
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _: Choice.Type
    ) -> (String) throws(ValueSyntaxError) -> Choice where Choice.RawValue == String {
        { text throws(ValueSyntaxError) in
            if let choice = Choice(rawValue: text) { return choice }
            let names = Choice.allCases.map { "'\($0.rawValue)'" }
            let listed =
                names.dropLast().isEmpty
                ? names.joined() : "\(names.dropLast().joined(separator: ", ")) or \(names[names.count - 1])"
            throw ValueSyntaxError("must be \(listed), not '\(text)'")
        }
    }

    /// One of a set of names, refused as "unknown `noun` 'x'" with the closest name or the whole list.
    static func named<Name: RawRepresentable & CaseIterable>(
        _: Name.Type,
        _ noun: String
    ) -> (String) throws(ValueSyntaxError) -> Name where Name.RawValue == String {
        { text throws(ValueSyntaxError) in
            if let name = Name(rawValue: text) { return name }
            let names = Name.allCases.map(\.rawValue)
            let hint =
                text.closestMatch(among: names).map { "did you mean '\($0)'?" }
                ?? "expected one of: \(names.joined(separator: ", "))"
            throw ValueSyntaxError("unknown \(noun) '\(text)' (\(hint))")
        }
    }
}
