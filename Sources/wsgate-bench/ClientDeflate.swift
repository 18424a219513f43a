import CZlib

/// Compresses a message as a permessage-deflate client would (RFC 7692 section 7.2.1): raw deflate,
/// sync flush, the trailing `00 00 ff ff` removed.
///
/// Each message is compressed on a fresh stream, so its bytes refer to nothing outside itself and
/// stay valid to send again and again whatever the server keeps between messages (with or without
/// context takeover): the load generator compresses its message once and repeats it.
enum ClientDeflate {
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        var allocated: Int64 = 0
        guard czlib_deflate_init(&stream, 6, 15, 8, &allocated) == Z_OK else {
            fatalError("deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 16)
        let produced = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                let status = deflate(&stream, Z_SYNC_FLUSH)
                precondition(status == Z_OK && stream.avail_in == 0, "deflate failed: \(status)")
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        let compressed = output.prefix(produced)
        precondition(compressed.suffix(4) == [0x00, 0x00, 0xFF, 0xFF], "sync flush must end with 00 00 ff ff")
        return Array(compressed.dropLast(4))
    }
}
