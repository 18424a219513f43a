import NIOCore

/// permessage-deflate on the client leg, between its `WebSocketEndpointHandler` and its
/// `ProxyLegHandler`: inflates what the client sends and deflates what it is sent, so the session
/// and the upstream leg only ever see plain frames.
///
/// Inflation follows the session's demand (``InboundGate``): it stops after an output chunk when the
/// other leg can take no more, keeps the rest of the compressed input and the events behind it (at
/// most what one read brought: the leg reads no more meanwhile), and resumes on the next `read()`,
/// which the session issues when the other leg has room again. So a small compressed frame that
/// inflates to megabytes never queues more than a chunk beyond the other leg's high-water mark.
///
/// A violation found in the inflated data (too big, not UTF-8, corrupt) is written to the endpoint as
/// `.failed`: the endpoint fails the leg and reports it exactly as a violation it found itself.
/// The zlib streams are freed when the handler is removed.
final class PerMessageDeflateHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrameEvent
    typealias InboundOut = WebSocketFrameEvent
    typealias OutboundIn = WebSocketFrameEvent
    typealias OutboundOut = WebSocketFrameEvent

    private var inflater: PerMessageInflater
    private var deflater: PerMessageDeflater
    /// Whether what is inflated can be handed on now.
    private let gate: () -> InboundGate
    /// Events from the endpoint that arrived while inflation was paused, in order.
    private var waiting = CircularBuffer<WebSocketFrameEvent>()
    /// Set once the leg was failed here; later data events are dropped, how the leg ended still goes on.
    private var failed = false
    /// Set once the session said it is ending: data events are dropped, close and failure go on.
    private var discardsData = false
    /// Set while the inflater runs, handing on its output. What that output causes on this channel
    /// before the run returns (the session closing the leg at `max_buffered`, an echo's answer failing
    /// to deflate, a read asked for) must not touch the inflater: it waits for the run's end.
    private var inflaterRunning = false
    private var releasesInflaterAfterRun = false
    private var readsAfterRun = false

    init(inflater: PerMessageInflater, deflater: PerMessageDeflater, gate: @escaping () -> InboundGate) {
        self.inflater = inflater
        self.deflater = deflater
        self.gate = gate
    }

    /// Builds the codec for a negotiated connection from the route's settings, on the calling
    /// EventLoop's shared state: streams are shared per loop for each direction without context takeover.
    convenience init(
        agreement: PerMessageDeflateAgreement,
        configuration: CompressionConfiguration,
        maxMessageSize: Int,
        loopState: CompressionLoopState,
        counters: CompressionCounters,
        gate: @escaping () -> InboundGate
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
            ),
            gate: gate
        )
        counters.negotiatedConnections += 1
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.releaseStreams()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.releaseStreams()
        context.fireChannelInactive()
    }

    private func releaseStreams() {
        self.deflater.release()
        if self.inflaterRunning {
            self.releasesInflaterAfterRun = true
        } else {
            self.inflater.release()
        }
    }

    /// Called when a run of the inflater returns: carries out the release it held back.
    private func inflaterRunEnded() {
        self.inflaterRunning = false
        if self.releasesInflaterAfterRun {
            self.releasesInflaterAfterRun = false
            self.inflater.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let event = self.unwrapInboundIn(data)
        if self.failed || self.discardsData {
            switch event {
            case .close, .failed: context.fireChannelRead(data)
            case .frameHead, .payload: break
            }
            return
        }
        guard !self.inflaterRunning, self.waiting.isEmpty, !self.inflater.hasPendingInput, self.gate() == .open else {
            self.waiting.append(event)
            return
        }
        self.inflate(event, context: context)
        if !self.waiting.isEmpty {
            // What arrived while the inflater ran (the leg's end, when its output closed the channel).
            self.drainWaiting(context: context)
        }
        self.readIfAskedDuringRun(context: context)
    }

    /// Resumes paused inflation first; the read goes on only once nothing waits any more.
    func read(context: ChannelHandlerContext) {
        guard !self.inflaterRunning else {
            self.readsAfterRun = true
            return
        }
        guard self.inflater.hasPendingInput || !self.waiting.isEmpty else {
            context.read()
            return
        }
        self.drainWaiting(context: context)
        // What was handed on here is not followed by the endpoint's read-complete: flush it now.
        context.fireChannelReadComplete()
        if !self.inflater.hasPendingInput, self.waiting.isEmpty {
            context.read()
        }
        self.readIfAskedDuringRun(context: context)
    }

    private func readIfAskedDuringRun(context: ChannelHandlerContext) {
        if self.readsAfterRun {
            self.readsAfterRun = false
            self.read(context: context)
        }
    }

    private func inflate(_ event: WebSocketFrameEvent, context: ChannelHandlerContext) {
        self.inflaterRunning = true
        defer { self.inflaterRunEnded() }
        do {
            try self.inflater.receive(event, allocator: context.channel.allocator, mayContinue: { self.gate() == .open }) {
                event in
                context.fireChannelRead(self.wrapInboundOut(event))
            }
        } catch {
            self.fail(WebSocketFailure(error), context: context)
        }
    }

    private func drainWaiting(context: ChannelHandlerContext) {
        while !self.failed {
            switch self.gate() {
            case .full:
                return
            case .closed:
                // The session is ending: data is no longer wanted, how the leg ends still is.
                self.discardsData = true
                self.inflater.release()
                self.dropWaitingData(context: context)
                return
            case .open:
                if self.inflater.hasPendingInput {
                    self.inflaterRunning = true
                    defer { self.inflaterRunEnded() }
                    do {
                        try self.inflater.resume(allocator: context.channel.allocator, mayContinue: { self.gate() == .open }) {
                            event in
                            context.fireChannelRead(self.wrapInboundOut(event))
                        }
                    } catch {
                        self.fail(WebSocketFailure(error), context: context)
                    }
                } else if let event = self.waiting.popFirst() {
                    self.inflate(event, context: context)
                } else {
                    return
                }
            }
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
            self.fail(.internalError("compression failed: \(error.message)"), context: context)
        }
    }

    /// Hands the failure to the endpoint, which fails the leg and reports it (unless it reported the
    /// leg's end before: that report waits here, and goes on).
    private func fail(_ failure: WebSocketFailure, context: ChannelHandlerContext) {
        self.failed = true
        context.writeAndFlush(self.wrapOutboundOut(.failed(failure)), promise: nil)
        self.dropWaitingData(context: context)
    }

    /// Empties the events waiting for inflation: data is dropped, how the leg ended is handed on.
    private func dropWaitingData(context: ChannelHandlerContext) {
        while let event = self.waiting.popFirst() {
            switch event {
            case .close, .failed: context.fireChannelRead(self.wrapInboundOut(event))
            case .frameHead, .payload: break
            }
        }
    }
}

@available(*, unavailable)
extension PerMessageDeflateHandler: Sendable {}
