import NIOWebSocket

/// Masking keys for the frames a client-role leg sends (RFC 6455 section 5.3).
///
/// `WebSocketMaskingKey.random()` asks the kernel for entropy on every frame (one `getrandom` system
/// call each, visible in profiles). Masking protects intermediaries against a script in a browser
/// choosing the bytes on the wire; the gateway's upstream leg carries no such script, so one seed from
/// the system generator per connection, stretched with SplitMix64, keeps keys unpredictable enough at
/// no per-frame system call.
struct MaskingKeyGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        self.state = system.next()
    }

    mutating func next() -> WebSocketMaskingKey {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = self.state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        return WebSocketMaskingKey([UInt8(truncatingIfNeeded: mixed), UInt8(truncatingIfNeeded: mixed >> 8), UInt8(truncatingIfNeeded: mixed >> 16), UInt8(truncatingIfNeeded: mixed >> 24)])!
    }
}
