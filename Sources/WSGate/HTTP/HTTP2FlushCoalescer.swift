import NIOCore

/// Sits in front of an HTTP/2 connection's `NIOHTTP2Handler` (behind its TLS handler, if any), on
/// a client's connection and on a pooled upstream one, and turns the flushes of one EventLoop tick
/// into one. Each stream flushes the connection when its session relays a message (a read on the
/// session's other leg), and NIOHTTP2 passes each flush on: 64 WebSockets echoing on one connection
/// made 64 flushes and 64 `write`s a tick where one carries them all. What waits meanwhile is bounded
/// by the streams' flow-control windows and counted in their tunnels' queues; a close flushes first.
final class HTTP2FlushCoalescer: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var flushScheduled = false
    /// Bytes written since the last flush that went on.
    private var unflushedBytes = 0

    /// From this many unflushed bytes a flush goes on at once: a full TLS record's worth gains
    /// nothing from waiting (measured: 16 KiB echoes cost 6-8 % more CPU when their flushes waited).
    static let flushAtOnce = 16 * 1024

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.unflushedBytes += self.unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        if self.unflushedBytes >= Self.flushAtOnce {
            self.flushScheduled = true
            self.flushNow(context: context)
            return
        }
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (coalescer, context) = loopBound.value
            coalescer.flushNow(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        self.flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard self.flushScheduled else { return }
        self.flushScheduled = false
        self.unflushedBytes = 0
        context.flush()
    }
}

@available(*, unavailable)
extension HTTP2FlushCoalescer: Sendable {}
