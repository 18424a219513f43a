/// Compression counters of one route on one EventLoop: plain integers, bumped on the loop that owns
/// them (no locks or atomics per frame). The stats endpoint sums them across loops by running on each.
final class CompressionCounters {
    /// Compressed messages received from clients, their bytes on the wire and after inflation.
    var inboundMessages = 0
    var inboundCompressedBytes = 0
    var inboundInflatedBytes = 0
    /// Messages sent to clients compressed, their bytes before and after deflate.
    var outboundMessages = 0
    var outboundUncompressedBytes = 0
    var outboundCompressedBytes = 0
    /// Messages sent to clients uncompressed on a compressed connection (below `min_size`).
    var outboundSkippedMessages = 0
    /// Connections that negotiated permessage-deflate.
    var negotiatedConnections = 0
}

@available(*, unavailable)
extension CompressionCounters: Sendable {}
