import NIOCore

/// The tail handler of a channel leg's pipeline (the ``SessionLeg`` of a connection or stream): it
/// hands the endpoint's frame events to the session, and withholds `read()` while the session says
/// the other leg cannot take more (backpressure).
final class ProxyLegHandler: ChannelDuplexHandler, RemovableChannelHandler, SessionLeg {
    typealias InboundIn = WebSocketFrameEvent
    typealias OutboundIn = WebSocketFrameEvent
    typealias OutboundOut = WebSocketFrameEvent

    private let leg: ProxySessionStateMachine.Leg
    private let session: ProxySession
    private var context: ChannelHandlerContext?
    /// On an HTTP/2 stream leg, the stream handler that counts what waits toward the upstream (a
    /// stream channel has no `bufferedWritableBytes` option); nil on a socket.
    private let streamQueue: (any SessionLegQueue)?

    /// - Parameter streamQueue: what counts the leg's queued bytes when its channel cannot (an HTTP/2 stream).
    init(leg: ProxySessionStateMachine.Leg, session: ProxySession, streamQueue: (any SessionLegQueue)? = nil) {
        self.leg = leg
        self.session = session
        self.streamQueue = streamQueue
    }

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    /// Bytes queued in the channel toward this leg's peer: the socket's pending writes, or on an
    /// HTTP/2 stream what its stream handler has not handed to the connection yet.
    var bufferedBytes: Int {
        if let streamQueue = self.streamQueue { return streamQueue.queuedBytes }
        return (try? self.context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.session.attach(self, as: self.leg)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.session.received(self.unwrapInboundIn(data), from: self.leg)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.session.readComplete(from: self.leg)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.session.writabilityChanged(of: self.leg, isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.session.inactive(self.leg)
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if self.session.mayRead(self.leg) {
            context.read()
        }
    }

    /// Issues the read that backpressure held back, and a read in any case: a handler in front of
    /// this one (the inflater) may be holding work that only a `read()` resumes. An extra read is
    /// harmless: the channel reads once either way.
    func resumeReading() {
        self.context?.read()
    }

    func send(_ event: WebSocketFrameEvent) {
        self.context?.write(self.wrapOutboundOut(event), promise: nil)
    }

    func flush() {
        self.context?.flush()
    }
}

@available(*, unavailable)
extension ProxyLegHandler: Sendable {}
