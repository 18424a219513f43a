/// The ChaCha20 block function (RFC 8439 section 2.3) run as a keystream: block after block for one
/// key, the block counter going up by one each time. With a key drawn from the system's generator this
/// is a cryptographically secure generator (the construction of `arc4random` and of Linux's
/// `get_random_bytes`); ``MaskingKeyGenerator`` draws masking keys from it.
///
/// The counter is 64 bits wide (state words 12 and 13, as in Bernstein's original), so it does not
/// wrap within any connection's life; the 32-bit counter and 96-bit nonce of RFC 8439 are the same
/// state read differently, which is how the RFC's test vector checks this code.
struct ChaCha20Keystream {
    private let key: SIMD8<UInt32>
    private let nonce: SIMD2<UInt32>
    private var counter: UInt64

    /// - Parameters:
    ///   - key: the 256-bit key as eight little-endian words.
    ///   - nonce: state words 14 and 15.
    ///   - counter: the first block's number (state words 12 and 13, low word first).
    init(key: SIMD8<UInt32>, nonce: SIMD2<UInt32> = .zero, counter: UInt64 = 0) {
        self.key = key
        self.nonce = nonce
        self.counter = counter
    }

    /// A keystream keyed from `SystemRandomNumberGenerator` (`getrandom`, `arc4random`).
    static func seededBySystem() -> Self {
        var system = SystemRandomNumberGenerator()
        var key = SIMD8<UInt32>()
        for index in 0..<4 {
            let word = system.next()
            key[2 * index] = UInt32(truncatingIfNeeded: word)
            key[2 * index + 1] = UInt32(truncatingIfNeeded: word >> 32)
        }
        return Self(key: key)
    }

    /// The next 64 bytes of keystream, as the 16 little-endian words of a block.
    mutating func nextBlock() -> SIMD16<UInt32> {
        let input = SIMD16<UInt32>(
            0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574,
            self.key[0], self.key[1], self.key[2], self.key[3],
            self.key[4], self.key[5], self.key[6], self.key[7],
            UInt32(truncatingIfNeeded: self.counter), UInt32(truncatingIfNeeded: self.counter >> 32), self.nonce[0], self.nonce[1]
        )
        self.counter &+= 1
        // 20 rounds, alternately on the columns and the diagonals of the 4x4 state (section 2.3). Plain
        // scalars: lane shuffles of Swift's SIMD types cost five times as much here.
        var (x0, x1, x2, x3, x4, x5, x6, x7) = (input[0], input[1], input[2], input[3], input[4], input[5], input[6], input[7])
        var (x8, x9, x10, x11, x12, x13, x14, x15) = (input[8], input[9], input[10], input[11], input[12], input[13], input[14], input[15])
        for _ in 0..<10 {
            Self.quarterRound(&x0, &x4, &x8, &x12)
            Self.quarterRound(&x1, &x5, &x9, &x13)
            Self.quarterRound(&x2, &x6, &x10, &x14)
            Self.quarterRound(&x3, &x7, &x11, &x15)
            Self.quarterRound(&x0, &x5, &x10, &x15)
            Self.quarterRound(&x1, &x6, &x11, &x12)
            Self.quarterRound(&x2, &x7, &x8, &x13)
            Self.quarterRound(&x3, &x4, &x9, &x14)
        }
        return SIMD16(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15) &+ input
    }

    /// The quarter round (section 2.1).
    @inline(__always)
    private static func quarterRound(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32) {
        a &+= b
        d ^= a
        d = d.rotatedLeft(16)
        c &+= d
        b ^= c
        b = b.rotatedLeft(12)
        a &+= b
        d ^= a
        d = d.rotatedLeft(8)
        c &+= d
        b ^= c
        b = b.rotatedLeft(7)
    }
}

extension UInt32 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt32) -> UInt32 {
        (self &<< count) | (self &>> (32 - count))
    }
}
