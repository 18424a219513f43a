extension Character {
    /// `0`-`9` only; `Character.isNumber` also accepts other scripts' digits and fractions.
    var isASCIIDigit: Bool { self.isASCII && self.isWholeNumber }
    /// `a`-`z` and `A`-`Z` only.
    var isASCIILetter: Bool { self.isASCII && self.isLetter }
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

extension UInt8 {
    /// RFC 9110 `tchar`: a byte a token (a header field name, an extension or parameter name) may hold.
    var isHTTPTokenByte: Bool {
        switch self {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(self)
        }
    }
}

extension StringProtocol {
    /// Whether the string is an RFC 9110 token: not empty, and `tchar`s only.
    var isHTTPToken: Bool {
        !self.isEmpty && self.utf8.allSatisfy(\.isHTTPTokenByte)
    }
}
