import NIOWebSocket

/// Masking keys for the frames a client-role leg sends (RFC 6455 section 5.3: keys "MUST be derived
/// from a strong source of entropy").
///
/// Keys are the words of a ChaCha20 keystream (``ChaCha20Keystream``) keyed from the system's
/// generator when the leg masks its first frame: a cryptographically secure generator, as
/// `arc4random` is, with one system call per leg instead of one per frame
/// (`WebSocketMaskingKey.random()`), and none for the legs that never mask.
///
/// Measured (a release build, thread CPU time, the best of 5 runs of 2 million keys, on this
/// project's 2-core machine): 5.9 ns per key; a `getrandom` call per key 287 ns; 64 bytes of
/// `arc4random_buf` per 16 keys 28 ns; swift-crypto's `_CryptoExtras` ChaCha20CTR 15.7 ns with 256
/// bytes a call (44.5 with 64), allocating two `Data` each time; the SplitMix64 stretch of one seed
/// used before, 1.1 ns.
///
/// Why not that stretch: masking is what keeps a script from choosing the bytes that a proxy on the
/// path sees (section 10.3), and the gateway relays bytes its clients chose (a browser's script
/// among them) to the upstream, through whatever proxies lie between. A key must not follow from
/// the ones before it; two consecutive SplitMix64 keys give its state away in about 2^32 trials.
struct MaskingKeyGenerator {
    /// Keys per ChaCha20 block (64 bytes).
    static let keysPerBlock = 16

    /// Keyed on first use.
    private var keystream: ChaCha20Keystream?
    private var block = SIMD16<UInt32>()
    /// Words of `block` handed out; ``keysPerBlock`` when the next block is due.
    private var used = MaskingKeyGenerator.keysPerBlock

    mutating func next() -> WebSocketMaskingKey {
        if self.used == Self.keysPerBlock {
            var keystream = self.keystream ?? .seededBySystem()
            self.block = keystream.nextBlock()
            self.keystream = keystream
            self.used = 0
        }
        let word = self.block[self.used]
        self.used += 1
        return withUnsafeBytes(of: word) { WebSocketMaskingKey($0)! }
    }
}
