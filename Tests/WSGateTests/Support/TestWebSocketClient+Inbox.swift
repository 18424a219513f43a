import Foundation
import NIOCore
import NIOWebSocket

/// A small lock-protected box.
final class TestLockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.value)
    }
}

extension TestWebSocketClient {
    /// Frames received from the server, waiting to be read, and how the stream ended.
    /// Fed on the event loop by `FrameInboxHandler`; read by one task at a time with `next(timeout:)`.
    final class FrameInbox: Sendable {
        private struct State {
            var frames = CircularBuffer<WebSocketFrame>()
            /// Thrown once every frame was read: `.connectionClosed` or the error that ended the stream.
            var end: (any Error)?
            var waiter: Waiter?
            var nextWaiterID = 0
        }

        private struct Waiter {
            let id: Int
            let continuation: CheckedContinuation<WebSocketFrame, any Error>
            var timer: Scheduled<Void>?
        }

        private let eventLoop: any EventLoop
        private let state = TestLockedBox(State())

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
        }

        func push(_ frame: WebSocketFrame) {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let waiter = state.waiter else {
                    state.frames.append(frame)
                    return nil
                }
                state.waiter = nil
                return waiter
            }
            waiter?.timer?.cancel()
            waiter?.continuation.resume(returning: frame)
        }

        /// The stream ended; the first reason given is kept.
        func finish(_ error: any Error) {
            let (waiter, end) = self.state.withLock { state -> (Waiter?, any Error) in
                if state.end == nil {
                    state.end = error
                }
                let waiter = state.waiter
                state.waiter = nil
                return (waiter, state.end ?? error)
            }
            waiter?.timer?.cancel()
            waiter?.continuation.resume(throwing: end)
        }

        func next(timeout: Duration) async throws -> WebSocketFrame {
            let id = self.state.withLock { state -> Int in
                state.nextWaiterID += 1
                return state.nextWaiterID
            }
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let immediate = self.state.withLock { state -> Result<WebSocketFrame, any Error>? in
                        if let frame = state.frames.popFirst() {
                            return .success(frame)
                        }
                        if let end = state.end {
                            return .failure(end)
                        }
                        if Task.isCancelled {
                            return .failure(CancellationError())
                        }
                        if state.waiter != nil {
                            return .failure(TestWebSocketClientError.concurrentRead)
                        }
                        state.waiter = Waiter(id: id, continuation: continuation, timer: nil)
                        return nil
                    }
                    if let immediate {
                        continuation.resume(with: immediate)
                        return
                    }
                    let timer = self.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                        self.expire(id, TestWebSocketClientError.timeout("a frame"))
                    }
                    self.state.withLock { state in
                        if state.waiter?.id == id {
                            state.waiter?.timer = timer
                        }
                    }
                }
            } onCancel: {
                self.expire(id, CancellationError())
            }
        }

        private func expire(_ id: Int, _ error: any Error) {
            let waiter = self.state.withLock { state -> Waiter? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.timer?.cancel()
            waiter?.continuation.resume(throwing: error)
        }
    }

    /// Last handler of an upgraded client pipeline: hands every decoded frame to the inbox.
    final class FrameInboxHandler: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame

        private let inbox: FrameInbox
        private let autoPong: Bool

        init(inbox: FrameInbox, autoPong: Bool) {
            self.inbox = inbox
            self.autoPong = autoPong
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = self.unwrapInboundIn(data)
            if self.autoPong && frame.opcode == .ping {
                let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
                context.writeAndFlush(self.wrapOutboundOut(pong), promise: nil)
            }
            self.inbox.push(frame)
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.inbox.finish(TestWebSocketClientError.connectionClosed)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // E.g. a frame the decoder rejects: frames read before it stay available, then this is thrown.
            self.inbox.finish(error)
        }
    }
}
