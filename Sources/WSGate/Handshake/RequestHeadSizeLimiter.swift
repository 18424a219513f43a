/// Measures a request head (request line and headers) as its bytes arrive, until the blank line that
/// ends it, so an oversized or never-ending head is refused before it is buffered (`max_header_bytes`).
struct RequestHeadSizeLimiter {
    enum Verdict: Equatable {
        /// The head is still incomplete and within the limit.
        case needMore
        /// The head ended within the last chunk.
        case complete
        case tooLarge
    }

    private let limit: Int
    private var seen = 0
    /// How many bytes of "\r\n\r\n" were matched at the end of the previous chunk.
    private var matched = 0

    init(limit: Int) {
        self.limit = limit
    }

    mutating func feed(_ bytes: some Collection<UInt8>) -> Verdict {
        for byte in bytes {
            self.seen += 1
            switch (self.matched, byte) {
            case (0, UInt8(ascii: "\r")), (2, UInt8(ascii: "\r")):
                self.matched += 1
            case (1, UInt8(ascii: "\n")):
                self.matched = 2
            case (3, UInt8(ascii: "\n")):
                return .complete
            case (_, UInt8(ascii: "\r")):
                self.matched = 1
            default:
                self.matched = 0
            }
            if self.seen > self.limit {
                return .tooLarge
            }
        }
        return .needMore
    }
}
