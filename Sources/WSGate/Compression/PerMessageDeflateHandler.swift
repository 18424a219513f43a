import NIOCore

/// permessage-deflate on the client leg, between its `WebSocketEndpointHandler` and its
/// `ProxyLegHandler`: inflates what the client sends and deflates what it is sent, so the session
/// and the upstream leg only ever see plain frames.
///
/// A violation found in the inflated data (too big, not UTF-8, corrupt) fails the client leg: the
/// endpoint is told to close with the code, and the session hears `.failed`, as it would from the
/// endpoint itself. The zlib streams are freed when the handler is removed.
final class PerMessageDeflateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrameEvent
    typealias InboundOut = WebSocketFrameEvent
    typealias OutboundIn = WebSocketFrameEvent
    typealias OutboundOut = WebSocketFrameEvent

    private var inflater: PerMessageInflater
    private var deflater: PerMessageDeflater
    /// Set once the leg was failed here; later events from the endpoint are dropped.
    private var failed = false

    init(inflater: PerMessageInflater, deflater: PerMessageDeflater) {
        self.inflater = inflater
        self.deflater = deflater
    }

    /// Builds the codec for a negotiated connection from the route's settings, on the calling
    /// EventLoop's shared state: streams are shared per loop for each direction without context takeover.
    convenience init(
        agreement: PerMessageDeflateAgreement,
        configuration: CompressionConfiguration,
        maxMessageSize: Int,
        loopState: CompressionLoopState,
        counters: CompressionCounters
    ) {
        let deflateParameters = ZlibStreamParameters(
            windowBits: agreement.serverWindowBits,
            memoryLevel: configuration.memoryLevel,
            level: configuration.level
        )
        self.init(
            inflater: PerMessageInflater(
                windowBits: agreement.clientWindowBits,
                maxMessageSize: maxMessageSize,
                pool: agreement.clientNoContextTakeover ? loopState.inflatePool(windowBits: agreement.clientWindowBits) : nil,
                memory: loopState.memory,
                counters: counters
            ),
            deflater: PerMessageDeflater(
                parameters: deflateParameters,
                minSize: configuration.minSize,
                pool: agreement.serverNoContextTakeover ? loopState.deflatePool(deflateParameters) : nil,
                memory: loopState.memory,
                counters: counters
            )
        )
        counters.negotiatedConnections += 1
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.inflater.release()
        self.deflater.release()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.inflater.release()
        self.deflater.release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        do {
            try self.inflater.receive(self.unwrapInboundIn(data), allocator: context.channel.allocator) { event in
                context.fireChannelRead(self.wrapInboundOut(event))
            }
        } catch {
            self.fail(error.status, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let event = self.unwrapOutboundIn(data)
        if self.failed {
            switch event {
            case .close, .failed:
                context.write(data, promise: promise)
            case .frameHead, .payload:
                promise?.fail(ChannelError.outputClosed)
            }
            return
        }
        do {
            try self.deflater.send(event, allocator: context.channel.allocator) { event in
                context.write(self.wrapOutboundOut(event), promise: nil)
            }
            promise?.succeed(())
        } catch {
            promise?.fail(error)
            self.fail(WebSocketCloseStatus(code: .internalError, reason: "compression failed: \(error.message)"), context: context)
        }
    }

    private func fail(_ status: WebSocketCloseStatus, context: ChannelHandlerContext) {
        self.failed = true
        context.writeAndFlush(self.wrapOutboundOut(.failed(status)), promise: nil)
        context.fireChannelRead(self.wrapInboundOut(.failed(status)))
        context.fireChannelReadComplete()
    }
}

@available(*, unavailable)
extension PerMessageDeflateHandler: Sendable {}
