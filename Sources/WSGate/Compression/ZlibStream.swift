import CZlib
import NIOCore

/// Counts the bytes zlib holds, for one EventLoop: every stream created with it adds its allocations
/// here and removes them when freed (the CZlib shim's allocator). Loop-confined, so a plain integer
/// (no atomics) is enough.
///
/// This is why the gateway has its own zlib shim rather than compress-nio (see Package.swift): the
/// memory budget (``GatewayMemory``) samples each loop's counter (``CompressionLoopState/memory``), so
/// zlib's real footprint, not an estimate, decides shared streams, 503s and closes under
/// `limits.max_memory`, and `/stats` shows it as `memory.zlib_bytes`.
final class ZlibMemoryCounter {
    fileprivate let bytes: UnsafeMutablePointer<Int64>

    init() {
        self.bytes = .allocate(capacity: 1)
        self.bytes.initialize(to: 0)
    }

    deinit {
        self.bytes.deallocate()
    }

    /// Bytes currently allocated by zlib streams counted here.
    var bytesInUse: Int { Int(self.bytes.pointee) }
}

/// The zlib parameters of one direction of a permessage-deflate connection.
struct ZlibStreamParameters: Hashable, Sendable {
    /// LZ77 window, 9...15 (zlib cannot deflate raw streams with 8; see `PerMessageDeflateNegotiation`).
    var windowBits: Int
    /// Deflate only: 1...9.
    var memoryLevel: Int
    /// Deflate only: 1...9.
    var level: Int
}

/// An error from zlib (corrupt compressed data, or an allocation failure).
struct ZlibError: Error, Equatable {
    var status: Int32
    var message: String
}

/// A raw deflate compressor (RFC 1951) for permessage-deflate. zlib's state is allocated on first
/// use, not at creation, so a connection that never sends a compressed message costs nothing.
final class ZlibDeflater {
    let parameters: ZlibStreamParameters
    private let memory: ZlibMemoryCounter
    /// Stable storage: zlib keeps a pointer back to its `z_stream`, so it must never move.
    private let stream: UnsafeMutablePointer<z_stream>
    private var isInitialized = false

    init(parameters: ZlibStreamParameters, memory: ZlibMemoryCounter) {
        self.parameters = parameters
        self.memory = memory
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
    }

    deinit {
        self.release()
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    /// Whether zlib's state is allocated.
    var isAllocated: Bool { self.isInitialized }

    /// Compresses `input`, returning what zlib emits. With `syncFlush` the output ends on a byte
    /// boundary with an empty stored block (`00 00 ff ff`), so everything given so far can be inflated.
    func deflate(_ input: ByteBuffer, syncFlush: Bool, allocator: ByteBufferAllocator) throws(ZlibError) -> ByteBuffer {
        try self.initializeIfNeeded()
        let stream = self.stream
        // deflateBound covers the input; sync flush markers and pending bits need a few bytes more.
        var output = allocator.buffer(capacity: Int(deflateBound(stream, uLong(input.readableBytes))) + 16)
        var status = Z_OK
        input.withUnsafeReadableBytes { inputBytes in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(inputBytes.count)
            repeat {
                if output.writableBytes == 0 {
                    output.reserveCapacity(minimumWritableBytes: max(64, output.capacity / 2))
                }
                let written = output.withUnsafeMutableWritableBytes { outputBytes in
                    stream.pointee.next_out = outputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(outputBytes.count)
                    status = CZlib.deflate(stream, syncFlush ? Z_SYNC_FLUSH : Z_NO_FLUSH)
                    return outputBytes.count - Int(stream.pointee.avail_out)
                }
                output.moveWriterIndex(forwardBy: written)
                // Done once zlib consumed everything and had room to spare for what it flushed.
            } while status == Z_OK && (stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0)
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        guard status == Z_OK || status == Z_BUF_ERROR else {
            throw ZlibError(status: status, message: Self.message(of: stream))
        }
        return output
    }

    /// Forgets the LZ77 context (no context takeover) while keeping the allocated state.
    func reset() {
        guard self.isInitialized else { return }
        deflateReset(self.stream)
    }

    /// Frees zlib's state; the next `deflate` allocates it again.
    func release() {
        guard self.isInitialized else { return }
        deflateEnd(self.stream)
        self.isInitialized = false
    }

    private func initializeIfNeeded() throws(ZlibError) {
        guard !self.isInitialized else { return }
        self.stream.pointee = z_stream()
        let status = czlib_deflate_init(
            self.stream,
            Int32(self.parameters.level),
            Int32(self.parameters.windowBits),
            Int32(self.parameters.memoryLevel),
            self.memory.bytes
        )
        guard status == Z_OK else {
            throw ZlibError(status: status, message: "deflateInit2 failed")
        }
        self.isInitialized = true
    }

    fileprivate static func message(of stream: UnsafeMutablePointer<z_stream>) -> String {
        stream.pointee.msg.map { String(cString: $0) } ?? "zlib error"
    }
}

/// A raw inflater (RFC 1951) for permessage-deflate; zlib's state is allocated on first use.
final class ZlibInflater {
    let windowBits: Int
    private let memory: ZlibMemoryCounter
    private let stream: UnsafeMutablePointer<z_stream>
    private var isInitialized = false
    /// The compressed data ended with a final block; the rest of the message is ignored.
    private var reachedStreamEnd = false

    init(windowBits: Int, memory: ZlibMemoryCounter) {
        self.windowBits = windowBits
        self.memory = memory
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
    }

    deinit {
        self.release()
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    var isAllocated: Bool { self.isInitialized }

    /// Inflates `input`, handing the output to `body` in chunks of at most `chunkSize` bytes, as they
    /// are produced: the caller can count (and refuse) output before more is inflated. `body` returns
    /// whether to go on; when it says stop, what zlib has not taken stays in `input` and this returns
    /// false: call again with it (even when empty: zlib may still hold output) to continue. Returns
    /// true once zlib has taken all of `input` and given all it can.
    func inflate<Failure: Error>(
        _ input: inout ByteBuffer,
        chunkSize: Int,
        allocator: ByteBufferAllocator,
        _ body: (ByteBuffer) throws(Failure) -> Bool
    ) throws(InflateFailure<Failure>) -> Bool {
        do {
            try self.initializeIfNeeded()
        } catch {
            throw .zlib(error)
        }
        guard !self.reachedStreamEnd else {
            input.moveReaderIndex(forwardBy: input.readableBytes)
            return true
        }
        let stream = self.stream
        // Small messages inflate to small outputs: start near the input's size and grow.
        var capacity = min(chunkSize, max(256, input.readableBytes * 4))
        while true {
            var output = allocator.buffer(capacity: capacity)
            var status = Z_OK
            let consumed = input.withUnsafeReadableBytes { inputBytes in
                output.withUnsafeMutableWritableBytes { outputBytes in
                    stream.pointee.next_in = UnsafeMutablePointer(
                        mutating: inputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    )
                    stream.pointee.avail_in = uInt(inputBytes.count)
                    stream.pointee.next_out = outputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(min(outputBytes.count, chunkSize))
                    let offered = Int(stream.pointee.avail_out)
                    status = CZlib.inflate(stream, Z_SYNC_FLUSH)
                    let produced = offered - Int(stream.pointee.avail_out)
                    stream.pointee.next_in = nil
                    stream.pointee.next_out = nil
                    return (inputBytes.count - Int(stream.pointee.avail_in), produced)
                }
            }
            input.moveReaderIndex(forwardBy: consumed.0)
            output.moveWriterIndex(forwardBy: consumed.1)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                break
            case Z_STREAM_END:
                self.reachedStreamEnd = true
                // Bytes after the end of the deflate stream are ignored.
                input.moveReaderIndex(forwardBy: input.readableBytes)
            default:
                throw .zlib(ZlibError(status: status, message: ZlibDeflater.message(of: stream)))
            }
            // A full output chunk means zlib may hold more; otherwise it has taken all it can.
            let outputWasFull: Bool = consumed.1 == min(output.capacity, chunkSize)
            let tookAll: Bool = input.readableBytes == 0 && !outputWasFull
            let stuck: Bool = status == Z_BUF_ERROR && consumed.0 == 0 && consumed.1 == 0
            let finished: Bool = self.reachedStreamEnd || tookAll || stuck
            if output.readableBytes > 0 {
                let goOn: Bool
                do {
                    goOn = try body(output)
                } catch {
                    throw .body(error)
                }
                if !goOn && !finished { return false }
            }
            if finished { return true }
            capacity = min(chunkSize, capacity * 2)
        }
    }

    /// Forgets the LZ77 context (no context takeover, or a message ended with a final block).
    func reset() {
        self.reachedStreamEnd = false
        guard self.isInitialized else { return }
        inflateReset(self.stream)
    }

    /// Whether the message's compressed data ended with a final block (so the window must be reset).
    var needsReset: Bool { self.reachedStreamEnd }

    func release() {
        self.reachedStreamEnd = false
        guard self.isInitialized else { return }
        inflateEnd(self.stream)
        self.isInitialized = false
    }

    private func initializeIfNeeded() throws(ZlibError) {
        guard !self.isInitialized else { return }
        self.stream.pointee = z_stream()
        let status = czlib_inflate_init(self.stream, Int32(self.windowBits), self.memory.bytes)
        guard status == Z_OK else {
            throw ZlibError(status: status, message: "inflateInit2 failed")
        }
        self.isInitialized = true
    }
}

/// Why `ZlibInflater.inflate` stopped: zlib failed, or the caller's chunk handler threw.
enum InflateFailure<Failure: Error>: Error {
    case zlib(ZlibError)
    case body(Failure)
}

@available(*, unavailable)
extension ZlibDeflater: Sendable {}

@available(*, unavailable)
extension ZlibInflater: Sendable {}

@available(*, unavailable)
extension ZlibMemoryCounter: Sendable {}
