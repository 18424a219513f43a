import NIOCore

/// Sits between a client's HTTP/2 connection's TLS handler and its `NIOHTTP2Handler`, and turns the
/// flushes of one EventLoop tick into one. Each stream flushes the connection when its session
/// relays a message (its upstream leg's read), and NIOHTTP2 passes each flush on: 64 WebSockets
/// echoing on one connection made 64 TLS flushes and 64 `write`s a tick where one carries them all.
/// What waits meanwhile is bounded by the streams' flow-control windows; a close flushes first.
final class HTTP2FlushCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private var flushScheduled = false

    func flush(context: ChannelHandlerContext) {
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
        context.flush()
    }
}

@available(*, unavailable)
extension HTTP2FlushCoalescer: Sendable {}
