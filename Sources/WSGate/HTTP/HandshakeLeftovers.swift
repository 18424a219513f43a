import NIOCore

/// What a connection delivered after its HTTP/1.1 upgrade and before the session's handlers were in
/// place: the bytes the HTTP decoder had read past the handshake (a client may send its first frames
/// in the same segment as its request, an upstream its first frames with its 101).
///
/// The handshake handler keeps them as they came, without looking at them, and replays them in order
/// when it leaves the pipeline, once the WebSocket endpoint sits behind it (as NIO's
/// `HTTPServerUpgradeHandler` does). Until then nothing but the handshake answer is written to the
/// connection, so no frame ever passes through the HTTP codec. Bounded by what one read can bring:
/// reads are held while the handshake is in progress.
struct HandshakeLeftovers {
    private var buffered = CircularBuffer<NIOAny>()

    mutating func append(_ data: NIOAny) {
        self.buffered.append(data)
    }

    /// Hands everything kept to the next handlers, followed by one read-complete (which flushes the
    /// session's other leg).
    mutating func replay(context: ChannelHandlerContext) {
        guard !self.buffered.isEmpty else { return }
        while let data = self.buffered.popFirst() {
            context.fireChannelRead(data)
        }
        context.fireChannelReadComplete()
    }
}
