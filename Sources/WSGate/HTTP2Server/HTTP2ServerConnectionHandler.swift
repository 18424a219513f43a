import NIOCore
import NIOHTTP2

/// Keeps a client's HTTP/2 connection, behind its `NIOHTTP2Handler`: counts its open streams, closes
/// it after `idleTimeout` without any (the HTTP/1.1 keep-alive wait's counterpart), and drains it on
/// ``quiesce()`` (the gateway's graceful shutdown): a GOAWAY naming the last stream it took, so the
/// client opens no more (RFC 9113 section 6.8), then the close once the last stream ended; the
/// WebSocket sessions on its streams get their 1001 from the gateway's session drain meanwhile.
///
/// A flood NIOHTTP2's protections caught, or a peer that does not speak HTTP/2, is counted and ends
/// the connection at once, never the others. After another connection error NIOHTTP2 has sent its
/// GOAWAY, and the connection ends as an idle one does (`idleTimeout` after its last stream): NIOHTTP2
/// reports stream and connection errors alike through `errorCaught`, and closing on a stream error
/// (a DATA frame racing a reset, which browsers send) would end every neighbour.
final class HTTP2ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let idleTimeout: TimeAmount
    private let counters: ClientProtocolCounters
    private let registry: HTTP2ConnectionRegistry
    private var context: ChannelHandlerContext?
    private var openStreams = 0
    private var lastStreamID = HTTP2StreamID.rootStream
    private var idleTimer: Scheduled<Void>?
    private var quiescing = false

    init(idleTimeout: TimeAmount, counters: ClientProtocolCounters, registry: HTTP2ConnectionRegistry) {
        self.idleTimeout = idleTimeout
        self.counters = counters
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.registry.register(self)
        self.armIdleTimer(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idleTimer?.cancel()
        self.registry.unregister(self)
        self.context = nil
    }

    /// A client opened a stream (its channel is being initialised); counted until the channel closes.
    /// (NIOHTTP2's inline multiplexer hands stream events to the streams, not to this pipeline.)
    func streamOpened(_ stream: any Channel) {
        self.openStreams += 1
        if let id = try? stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID), id > self.lastStreamID {
            self.lastStreamID = id
        }
        self.idleTimer?.cancel()
        self.idleTimer = nil
        self.counters.streamOpened()
        let keeper = NIOLoopBound(self, eventLoop: stream.eventLoop)
        stream.closeFuture.whenComplete { _ in keeper.value.streamClosed() }
    }

    private func streamClosed() {
        self.openStreams -= 1
        self.counters.streamClosed()
        guard self.openStreams == 0, let context = self.context else { return }
        if self.quiescing {
            context.close(promise: nil)
        } else {
            self.armIdleTimer(context: context)
        }
    }

    /// The connection's own frames (SETTINGS, PING, GOAWAY, WINDOW_UPDATE), which NIOHTTP2 has
    /// acted on, end here: the handlers behind this one are the HTTP/1 ones leaving the pipeline.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            self.quiesce()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// NIOHTTP2 reports stream errors (it reset that stream) and connection errors (it sent GOAWAY)
    /// alike; a flood its protections caught, or a peer that is not speaking HTTP/2, ends the
    /// connection. Other errors concern one stream, already reset.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.endsConnection(error) else { return }
        self.counters.http2ConnectionFailed()
        context.close(promise: nil)
    }

    static func endsConnection(_ error: any Error) -> Bool {
        switch error {
        case is NIOHTTP2Errors.ExcessiveRSTFrames, is NIOHTTP2Errors.ExcessiveStreamErrors,
            is NIOHTTP2Errors.ExcessiveControlFrames, is NIOHTTP2Errors.ExcessiveContinuationFrames,
            is NIOHTTP2Errors.ExcessiveEmptyDataFrames, is NIOHTTP2Errors.ExcessiveNumberOfGlitches,
            is NIOHTTP2Errors.ExcessivelyLargeHeaderBlock, is NIOHTTP2Errors.ExcessiveOutboundFrameBuffering,
            is NIOHTTP2Errors.BadClientMagic:
            return true
        default:
            return false
        }
    }

    /// Sends GOAWAY with the last stream taken and closes the connection once its streams ended.
    func quiesce() {
        guard !self.quiescing, let context = self.context else { return }
        self.quiescing = true
        let goAway = HTTP2Frame(
            streamID: .rootStream,
            payload: .goAway(lastStreamID: self.lastStreamID, errorCode: .noError, opaqueData: nil)
        )
        context.writeAndFlush(self.wrapOutboundOut(goAway), promise: nil)
        if self.openStreams == 0 { context.close(promise: nil) }
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        self.idleTimer?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.idleTimer = context.eventLoop.scheduleTask(in: self.idleTimeout) {
            let handler = loopBound.value
            guard handler.openStreams == 0 else { return }
            handler.quiesce()
        }
    }
}

@available(*, unavailable)
extension HTTP2ServerConnectionHandler: Sendable {}
