import NIOCore
import NIOHTTP1

/// What an HTTP exchange lent a pooled upstream connection hears from it. Calls are made on the
/// connection's EventLoop, which is the client's.
protocol HTTP1UpstreamExchange: AnyObject {
    func upstreamResponse(_ part: HTTPClientResponsePart)
    /// A read of the upstream ended: flush what it brought toward the client.
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed or failed while lent.
    func upstreamClosed()
    /// Whether the upstream may be read now: the client can take more.
    var mayReadUpstream: Bool { get }
}

/// The last handler of a pooled HTTP/1.1 upstream connection, or of an HTTP/2 stream carrying one
/// request (behind NIO's `HTTP2FramePayloadToHTTP1ClientCodec`, so the exchange speaks the same
/// parts either way): hands the response parts to the exchange the way is lent to, and reads the
/// upstream only while that exchange's client can take more (backpressure from the client to the
/// upstream; on a stream, held reads hold its flow-control window). An idle connection that closes,
/// or that sends anything unasked, tells its pool (and is closed).
final class HTTP1UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// The exchange the connection is lent to; nil while idle.
    weak var exchange: (any HTTP1UpstreamExchange)?
    /// Called once when the connection closes.
    var onClose: (() -> Void)?
    private var context: ChannelHandlerContext?
    private var readPending = false
    /// Body bytes written and not yet taken by the channel, counted here on an HTTP/2 stream (whose
    /// channel keeps no such count); nil on a socket, which does.
    private var counted: Int?

    /// - Parameter countsQueuedBytes: on an HTTP/2 stream channel.
    init(countsQueuedBytes: Bool = false) {
        self.counted = countsQueuedBytes ? 0 : nil
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    /// Bytes written toward the upstream and not yet taken by the channel (the memory budget counts
    /// them against the exchange's client connection).
    var queuedBytes: Int {
        if let counted = self.counted { return counted }
        return (try? self.context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange = self.exchange else {
            // Nothing was asked: an idle connection that speaks is closed.
            context.close(promise: nil)
            return
        }
        exchange.upstreamResponse(self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.exchange?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.exchange?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let exchange = self.exchange
        self.exchange = nil
        self.onClose?()
        self.onClose = nil
        exchange?.upstreamClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if let exchange = self.exchange, !exchange.mayReadUpstream {
            self.readPending = true
        } else {
            context.read()
        }
    }

    /// Writes a request part toward the upstream (flushed by ``flush()``).
    func write(_ part: HTTPClientRequestPart) {
        guard let context = self.context else { return }
        guard self.counted != nil, case .body(.byteBuffer(let buffer)) = part else {
            context.write(self.wrapOutboundOut(part), promise: nil)
            return
        }
        let size = buffer.readableBytes
        self.counted? += size
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in self.counted? -= size }
        context.write(self.wrapOutboundOut(part), promise: written)
    }

    func flush() {
        self.context?.flush()
    }

    /// Issues the read held back while the client could take no more.
    func resumeReading() {
        guard self.readPending, let context = self.context else { return }
        self.readPending = false
        context.read()
    }

    func close() {
        self.context?.close(promise: nil)
    }
}

@available(*, unavailable)
extension HTTP1UpstreamHandler: Sendable {}
