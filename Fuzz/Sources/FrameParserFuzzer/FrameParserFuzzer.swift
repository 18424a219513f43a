import NIOCore

@testable import WSGate

/// Feeds arbitrary bytes through `WebSocketFrameParser` and `WebSocketInboundStateMachine` the way
/// `WebSocketEndpointHandler.channelRead` does (an incomplete header is carried over to the next read),
/// and checks that every data frame's payload slices add up to the length its header announced, the
/// slice that reaches it (and only that one) marked as ending the frame.
///
/// Input: byte 0 picks the setting (bit 0: role, bit 1: RSV1 negotiated, bits 2-3: `max_frame`,
/// bits 4-5: `max_message`); byte 1 is a count `n` of read sizes that follow (1-255 bytes each, 0 for
/// the rest at once), cycled; the remaining bytes are what the peer sends.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    guard let setting = input.readInteger(as: UInt8.self), let count = input.readInteger(as: UInt8.self),
        let readSizes = input.readBytes(length: Int(count))
    else { return 0 }
    let limits = [125, 4096, 1 << 20, Int.max]
    var leg = InboundLeg(
        role: setting & 0x01 == 0 ? .server : .client,
        negotiatedReservedBits: setting & 0x02 == 0 ? 0 : WebSocketFrameHeader.rsv1,
        maxFrameSize: limits[Int(setting >> 2) & 0x03],
        maxMessageSize: limits[Int(setting >> 4) & 0x03]
    )
    var readIndex = 0
    while input.readableBytes > 0, !leg.failed {
        let readSize = readSizes.isEmpty ? 0 : Int(readSizes[readIndex % readSizes.count])
        readIndex += 1
        leg.channelRead(input.readSlice(length: readSize == 0 ? input.readableBytes : min(readSize, input.readableBytes))!)
    }
    return 0
}

/// One leg's inbound side without the channel: parser, state machine and the carried-over bytes.
struct InboundLeg {
    private var parser: WebSocketFrameParser
    private var machine: WebSocketInboundStateMachine
    private var carry: ByteBuffer?
    /// Payload bytes the current data frame still owes, from its header.
    private var frameRemaining = 0
    private(set) var failed = false

    init(role: WebSocketRole, negotiatedReservedBits: UInt8, maxFrameSize: Int, maxMessageSize: Int) {
        self.parser = WebSocketFrameParser(maxFrameSize: maxFrameSize)
        self.machine = WebSocketInboundStateMachine(
            role: role,
            maxMessageSize: maxMessageSize,
            negotiatedReservedBits: negotiatedReservedBits
        )
    }

    mutating func channelRead(_ read: ByteBuffer) {
        var buffer = read
        if var carry = self.carry {
            carry.writeBuffer(&buffer)
            buffer = carry
        }
        do {
            while let event = try self.parser.next(&buffer) {
                self.check(try self.machine.receive(event))
            }
        } catch {
            self.failed = true
        }
        self.carry = buffer.readableBytes > 0 ? buffer : nil
    }

    private mutating func check(_ action: WebSocketInboundStateMachine.Action) {
        switch action {
        case .forward(.frameHead(let head)):
            precondition(self.frameRemaining == 0, "a frame head before the previous frame's payload ended")
            self.frameRemaining = head.payloadLength
        case .forward(.payload(let payload, let endsFrame)):
            precondition(payload.readableBytes > 0, "an empty payload slice")
            precondition(payload.readableBytes <= self.frameRemaining, "more payload than the frame head announced")
            self.frameRemaining -= payload.readableBytes
            precondition(endsFrame == (self.frameRemaining == 0), "the end of the frame marked wrong")
        case .forward(.close), .forward(.failed):
            preconditionFailure("the inbound machine forwards only data frames")
        case .sendPong(let payload):
            precondition(payload.readableBytes <= 125, "a pong payload over 125 bytes")
        case .pongReceived, .closeReceived:
            break
        }
    }
}
