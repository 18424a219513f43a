import NIOCore
import NIOWebSocket

@testable import WSGate

/// Feeds arbitrary bytes, as the payload of compressed client messages cut into frames at
/// fuzzer-chosen points, to `PerMessageInflater`, and checks what it emits: frames whose payload slices
/// add up to their announced length, the message's opcode on its first frame and `.continuation` after,
/// FIN on the last only, nothing beyond `max_message`, and, with a stream of its own, no zlib memory
/// left after `release()`.
///
/// Input: byte 0 picks the setting (bit 0: text, bit 1: shared streams (no context takeover),
/// bits 2-4: window bits from 9, capped at 15, bits 5-6: `max_message`); byte 1 is a count `n` of
/// frame sizes that follow (bits 0-6: payload bytes, 0 for the rest of the input; bit 7: FIN), cycled;
/// the remaining bytes are the compressed payloads.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    guard let setting = input.readInteger(as: UInt8.self), let count = input.readInteger(as: UInt8.self),
        let frameSizes = input.readBytes(length: Int(count)), !frameSizes.isEmpty
    else { return 0 }
    let windowBits = min(15, 9 + Int(setting >> 2) & 0x07)
    let maxMessageSize = [16, 1024, 64 * 1024, 1 << 20][Int(setting >> 5) & 0x03]
    let memory = ZlibMemoryCounter()
    let pool: ZlibStreamPool<ZlibInflater>? =
        setting & 0x02 == 0 ? nil : ZlibStreamPool { ZlibInflater(windowBits: windowBits, memory: memory) }
    var inflater = PerMessageInflater(
        windowBits: windowBits,
        maxMessageSize: maxMessageSize,
        pool: pool,
        memory: memory,
        counters: CompressionCounters()
    )
    var output = InflatedOutput(opcode: setting & 0x01 == 0 ? .binary : .text, maxMessageSize: maxMessageSize)
    var inMessage = false
    var frameIndex = 0
    do {
        while input.readableBytes > 0 {
            let frameSize = frameSizes[frameIndex % frameSizes.count]
            frameIndex += 1
            let length = frameSize & 0x7F == 0 ? input.readableBytes : min(Int(frameSize & 0x7F), input.readableBytes)
            let fin = frameSize & 0x80 != 0 || input.readableBytes == length
            let head = WebSocketDataFrameHead(
                opcode: inMessage ? .continuation : output.opcode,
                fin: fin,
                compressed: !inMessage,
                payloadLength: length
            )
            try inflater.receive(.frameHead(head), allocator: ByteBufferAllocator()) { output.check($0) }
            if length > 0 {
                let payload = input.readSlice(length: length)!
                try inflater.receive(.payload(payload, endsFrame: true), allocator: ByteBufferAllocator()) { output.check($0) }
            }
            inMessage = !fin
        }
    } catch {
        // A protocol error: the client leg is closed with its code.
    }
    inflater.release()
    if pool == nil {
        precondition(memory.bytesInUse == 0, "\(memory.bytesInUse) bytes of zlib memory after release()")
    }
    return 0
}

/// The invariants of what the inflater hands to the uncompressed leg.
struct InflatedOutput {
    let opcode: WebSocketOpcode
    let maxMessageSize: Int
    private var frameRemaining = 0
    private var messageSize = 0
    private var inMessage = false

    init(opcode: WebSocketOpcode, maxMessageSize: Int) {
        self.opcode = opcode
        self.maxMessageSize = maxMessageSize
    }

    mutating func check(_ event: WebSocketFrameEvent) {
        switch event {
        case .frameHead(let head):
            precondition(self.frameRemaining == 0, "a frame head before the previous frame's payload ended")
            precondition(head.opcode == (self.inMessage ? .continuation : self.opcode), "opcode \(head.opcode)")
            precondition(!head.compressed, "an inflated frame marked compressed")
            self.frameRemaining = head.payloadLength
            self.messageSize += head.payloadLength
            precondition(self.messageSize <= self.maxMessageSize, "inflated past max_message")
            self.inMessage = !head.fin
            if head.fin { self.messageSize = 0 }
        case .payload(let payload, let endsFrame):
            precondition(
                payload.readableBytes > 0 && payload.readableBytes <= self.frameRemaining,
                "payload of \(payload.readableBytes) bytes"
            )
            self.frameRemaining -= payload.readableBytes
            precondition(endsFrame == (self.frameRemaining == 0), "the end of the frame marked wrong")
        case .close, .failed:
            preconditionFailure("the inflater invented \(event)")
        }
    }
}
