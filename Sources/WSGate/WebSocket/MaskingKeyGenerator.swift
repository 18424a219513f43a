import Crypto
import Foundation
import NIOWebSocket
import _CryptoExtras

/// Masking keys for the frames a client-role leg sends (RFC 6455 section 5.3: keys "MUST be derived
/// from a strong source of entropy").
///
/// Keys are read from a ChaCha20 keystream (swift-crypto's `Insecure.ChaCha20CTR`, BoringSSL's
/// implementation) under a key and nonce drawn from the system's generator when the leg masks its
/// first frame: a cryptographically secure generator, as `arc4random` is, with one system draw per
/// leg instead of one per frame (`WebSocketMaskingKey.random()`), and none for the legs that never
/// mask. One call yields ``keysPerRefill`` keys (256 bytes kept per masking leg).
///
/// Measured (a release build, thread CPU time, the best of 5 runs of 2 million keys, on this
/// project's 2-core machine): 15.7 ns per key with 256-byte refills (44.5 with 64); a hand-written
/// ChaCha20 block function 5.9 ns; a `getrandom` call per key 287 ns; the SplitMix64 stretch of one
/// seed used before, 1.1 ns. A key per frame sent upstream, next to about a microsecond of work per
/// frame: the library's version is kept rather than our own cipher code.
///
/// Why not that stretch: masking is what keeps a script from choosing the bytes that a proxy on the
/// path sees (section 10.3), and the gateway relays bytes its clients chose (a browser's script
/// among them) to the upstream, through whatever proxies lie between. A key must not follow from
/// the ones before it; two consecutive SplitMix64 keys give its state away in about 2^32 trials.
struct MaskingKeyGenerator {
    /// Keys per keystream call (4 ChaCha20 blocks).
    static let keysPerRefill = 64
    private static let zeros = [UInt8](repeating: 0, count: keysPerRefill * 4)
    private static let blocksPerRefill: UInt32 = 4

    private struct Cipher {
        let key = SymmetricKey(size: .bits256)
        let nonce = Insecure.ChaCha20CTR.Nonce()
        /// The next block's number; the cipher is replaced before the 32-bit counter would wrap.
        var block: UInt32 = 0
    }

    /// Drawn on first use.
    private var cipher: Cipher?
    /// The keystream of the last refill, one key per word.
    private var keystream: [UInt32] = []
    /// Keys of `keystream` handed out; ``keysPerRefill`` when the next call is due.
    private var used = MaskingKeyGenerator.keysPerRefill

    mutating func next() -> WebSocketMaskingKey {
        if self.used == Self.keysPerRefill {
            self.refill()
        }
        var word = KeystreamWord(bits: self.keystream[self.used])
        self.used += 1
        return WebSocketMaskingKey.random(using: &word)
    }

    /// One keystream word as NIO's `WebSocketMaskingKey.random(using:)` draws it: the only public way
    /// to make a key from an integer without a generic call per key (its initializer from a byte
    /// collection is not inlinable). It yields the word in both halves of its 64 bits, so the key is
    /// the word whichever half a 32-bit draw keeps.
    private struct KeystreamWord: RandomNumberGenerator {
        let bits: UInt32

        mutating func next() -> UInt64 {
            UInt64(self.bits) | UInt64(self.bits) << 32
        }
    }

    private mutating func refill() {
        var cipher = self.cipher ?? Cipher()
        if cipher.block > UInt32.max - Self.blocksPerRefill {
            cipher = Cipher()
        }
        let bytes: Data
        do {
            bytes = try Insecure.ChaCha20CTR.encrypt(
                Self.zeros,
                using: cipher.key,
                counter: Insecure.ChaCha20CTR.Counter(offset: cipher.block),
                nonce: cipher.nonce
            )
        } catch {
            // Throws only for a key, nonce or counter of the wrong size; all three are fixed above.
            preconditionFailure("ChaCha20CTR refused its fixed-size inputs: \(error)")
        }
        self.keystream = bytes.withUnsafeBytes { raw in
            (0..<Self.keysPerRefill).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) }
        }
        cipher.block += Self.blocksPerRefill
        self.cipher = cipher
        self.used = 0
    }
}
