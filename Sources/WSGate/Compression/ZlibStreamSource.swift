/// What the per-message codecs need of a zlib stream to share or keep it.
protocol ZlibStreamLifecycle: AnyObject {
    var isAllocated: Bool { get }
    /// Forgets the context while keeping the allocated state.
    func reset()
    /// Frees zlib's state.
    func release()
}

extension ZlibDeflater: ZlibStreamLifecycle {}
extension ZlibInflater: ZlibStreamLifecycle {}

/// Where one connection's compressor (or decompressor) comes from, message by message: its own stream
/// (context takeover), created on the first compressed message and kept, or one borrowed from the
/// EventLoop's pool for the length of a message (no context takeover).
struct ZlibStreamSource<Stream: ZlibStreamLifecycle> {
    private let pool: ZlibStreamPool<Stream>?
    private let make: () -> Stream
    private var dedicated: Stream?
    /// The stream of the message in progress, if any.
    private(set) var current: Stream?

    /// - Parameter pool: the loop's shared streams when context is not kept, else nil.
    init(pool: ZlibStreamPool<Stream>?, make: @escaping () -> Stream) {
        self.pool = pool
        self.make = make
    }

    /// Whether this connection holds zlib state of its own right now.
    var holdsStream: Bool { (self.dedicated?.isAllocated ?? false) || self.current != nil }

    mutating func beginMessage() -> Stream {
        let stream: Stream
        if let pool = self.pool {
            stream = pool.borrow()
        } else {
            stream = self.dedicated ?? self.make()
            self.dedicated = stream
        }
        self.current = stream
        return stream
    }

    /// Ends the message: a borrowed stream is reset and given back; a dedicated one is kept and
    /// returned (a caller may need to reset it).
    @discardableResult
    mutating func endMessage() -> Stream? {
        guard let stream = self.current else { return nil }
        self.current = nil
        guard let pool = self.pool else { return stream }
        stream.reset()
        pool.giveBack(stream)
        return nil
    }

    /// Frees the connection's zlib state (the connection is gone).
    mutating func release() {
        self.endMessage()
        self.dedicated?.release()
        self.dedicated = nil
    }
}
