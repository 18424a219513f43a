extension Character {
    /// `0`-`9` only; `Character.isNumber` also accepts other scripts' digits and fractions.
    var isASCIIDigit: Bool { self.isASCII && self.isWholeNumber }
    /// `a`-`z` and `A`-`Z` only.
    var isASCIILetter: Bool { self.isASCII && self.isLetter }
}
