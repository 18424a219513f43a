/// permessage-deflate (RFC 7692) on the client leg; the upstream leg is never compressed.
///
/// In YAML this is `defaults.compression`, and a route's `compression` overrides single keys on top of
/// it. zlib state is the largest per-connection cost, so its size is chosen here: `context_takeover`
/// decides whether each connection owns its zlib streams or borrows shared ones per message.
struct CompressionConfiguration: Sendable, Equatable {
    /// Whether the gateway accepts a client's permessage-deflate offer. Default: `true`.
    var enabled: Bool
    /// zlib compression level for messages to the client, 1 (fastest) to 9 (smallest). Default: 6.
    var level: Int
    /// The LZ77 window the gateway compresses with, 9...15 (2^bits bytes; zlib memory is about
    /// 2^(bits+2) + 2^(memLevel+9) bytes per compressor). A client offer asking for less is honoured.
    /// Default: 15.
    var serverMaxWindowBits: Int
    /// The window asked of the client when its offer allows it (`client_max_window_bits`), 9...15;
    /// the gateway's inflater needs 2^bits bytes per stream. Default: 15.
    var clientMaxWindowBits: Int
    /// zlib memory level of the compressor, 1...9. Default: 8.
    var memoryLevel: Int
    /// Messages to the client whose size is known (a single final frame) and below this many bytes
    /// are sent uncompressed. Default: 64 bytes.
    var minSize: Int
    /// `true`: each connection has its own zlib streams, created on its first compressed message and
    /// kept for its life (best ratio). `false`: the gateway negotiates `server_no_context_takeover` and
    /// `client_no_context_takeover` and borrows one of the EventLoop's shared streams per message, so
    /// an idle compressed connection holds no zlib memory. Default: `true`.
    var contextTakeover: Bool

    /// Creates a compression configuration; every parameter defaults to the documented built-in value.
    init(
        enabled: Bool = true,
        level: Int = 6,
        serverMaxWindowBits: Int = 15,
        clientMaxWindowBits: Int = 15,
        memoryLevel: Int = 8,
        minSize: Int = 64,
        contextTakeover: Bool = true
    ) {
        self.enabled = enabled
        self.level = level
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
        self.memoryLevel = memoryLevel
        self.minSize = minSize
        self.contextTakeover = contextTakeover
    }
}
