/// What permessage-deflate keeps per EventLoop: the counter of zlib memory and the shared streams of
/// connections without context takeover. (The per-route counters are the gateway's, in ``RouteCounters``.)
///
/// Each gateway has one per EventLoop (``GatewayLoopState/compression``), used only on that loop's
/// thread, so none of it needs a lock; the memory budget samples it there (``GatewayMemory``).
final class CompressionLoopState {
    /// zlib memory of every stream created on this loop, dedicated and shared.
    let memory = ZlibMemoryCounter()
    private var deflatePools: [ZlibStreamParameters: ZlibStreamPool<ZlibDeflater>] = [:]
    private var inflatePools: [Int: ZlibStreamPool<ZlibInflater>] = [:]

    /// The shared compressors with these parameters (connections without server context takeover).
    func deflatePool(_ parameters: ZlibStreamParameters) -> ZlibStreamPool<ZlibDeflater> {
        if let pool = self.deflatePools[parameters] { return pool }
        let memory = self.memory
        let pool = ZlibStreamPool { ZlibDeflater(parameters: parameters, memory: memory) }
        self.deflatePools[parameters] = pool
        return pool
    }

    /// The shared inflaters with this window (connections without client context takeover).
    func inflatePool(windowBits: Int) -> ZlibStreamPool<ZlibInflater> {
        if let pool = self.inflatePools[windowBits] { return pool }
        let memory = self.memory
        let pool = ZlibStreamPool { ZlibInflater(windowBits: windowBits, memory: memory) }
        self.inflatePools[windowBits] = pool
        return pool
    }
}

/// zlib streams shared by the connections of one EventLoop that do not keep context between messages.
///
/// A message borrows a stream from its first frame to its last. Messages of different connections
/// can be in flight at once (a frame's payload arrives over several reads), so a borrow finding the
/// pool empty creates a stream; on return the stream is reset and kept if the pool holds fewer than
/// `maxIdle`, else freed. In the usual case (messages complete within one read) one stream serves
/// the whole loop.
final class ZlibStreamPool<Stream: AnyObject> {
    private let make: () -> Stream
    private var idle: [Stream] = []
    private let maxIdle: Int

    init(maxIdle: Int = 1, make: @escaping () -> Stream) {
        self.make = make
        self.maxIdle = maxIdle
    }

    func borrow() -> Stream {
        self.idle.popLast() ?? self.make()
    }

    /// Takes back a stream the caller has already reset.
    func giveBack(_ stream: Stream) {
        if self.idle.count < self.maxIdle {
            self.idle.append(stream)
        }
    }
}

@available(*, unavailable)
extension CompressionLoopState: Sendable {}

@available(*, unavailable)
extension ZlibStreamPool: Sendable {}
