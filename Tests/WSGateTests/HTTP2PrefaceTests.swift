import Logging
import NIOCore
import NIOEmbedded
import NIOSSL
import XCTest

@testable import WSGate

/// The switch to HTTP/2 when a client's preface and first request come in the same TLS read as its
/// Finished: NIOSSL delivers them right after `handshakeCompleted`, while NIO's HTTP/1 decoder, whose
/// removal is always one loop tick late, is still in the pipeline. The HTTP/2 handlers must get them.
/// Two `EmbeddedChannel`s hold a real TLS 1.3 handshake; the client's last flight (Finished, preface,
/// SETTINGS, HEADERS) is handed to the gateway's connection as one read.
final class HTTP2PrefaceTests: XCTestCase {
    func testAPrefaceInTheSameReadAsTheTLSFinishedIsServed() throws {
        let yaml = """
            listeners:
              - {name: public, address: 127.0.0.1:8443, tls: {self_signed: true}}
            upstreams:
              echo: {protocol: echo}
            routes:
              - {name: echo, match: {path: /echo}, upstream: echo}
            """
        let configuration = try GatewayConfiguration.parse(yaml: yaml, file: "t.yaml")
        let listener = configuration.listeners[0]
        let tls = try ListenerTLSContext(XCTUnwrap(listener.tls), offersHTTP2: listener.servesHTTP2)
        let environment = SessionEnvironment.standalone()
        var connection = ClientHandshakeContext.forTests(
            configuration,
            session: environment,
            tlsFailures: TLSHandshakeFailures(listener: "public", logger: Logger(label: "test"))
        )
        connection.http2 = listener.http2

        let server = EmbeddedChannel()
        try ClientPipeline.configure(
            server,
            tls: tls.sslContext,
            maxHeaderBytes: 16 * 1024,
            handshake: ClientHandshakeHandler(
                connection: connection,
                ticket: AdmissionTicket(acceptance: .admitted, ip: nil, limiter: ConnectionLimiter())
            )
        )
        var clientTLS = TLSConfiguration.makeClientConfiguration()
        clientTLS.certificateVerification = .none
        clientTLS.applicationProtocols = ["h2"]
        let client = EmbeddedChannel(handler: try NIOSSLClientHandler(context: NIOSSLContext(configuration: clientTLS), serverHostname: nil))
        // Not `finish()`ed: its close would wait for a TLS close_notify no one answers.
        defer {
            client.close(promise: nil)
            server.close(promise: nil)
        }
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        // Written now, sent by NIOSSL right behind its Finished.
        client.writeAndFlush(Self.prefaceAndRequest, promise: nil)

        var plaintext = ByteBuffer()
        for _ in 0..<10 {
            // Whatever the client wrote since the last turn reaches the gateway as one read.
            var flight = ByteBuffer()
            while var buffer = try client.readOutbound(as: ByteBuffer.self) { flight.writeBuffer(&buffer) }
            if flight.readableBytes > 0 { try server.writeInbound(flight) }
            server.embeddedEventLoop.run()
            var answered = false
            while let buffer = try server.readOutbound(as: ByteBuffer.self) {
                try client.writeInbound(buffer)
                answered = true
            }
            while var buffer = try client.readInbound(as: ByteBuffer.self) { plaintext.writeBuffer(&buffer) }
            if flight.readableBytes == 0 && !answered { break }
        }

        let frames = Self.frames(plaintext)
        XCTAssertEqual(frames.first?.type, 0x4, "the gateway's SETTINGS first: \(frames)")
        XCTAssertTrue(frames.contains { $0.type == 0x1 && $0.stream == 1 }, "stream 1 was answered (HEADERS): \(frames)")
        XCTAssertFalse(frames.contains { $0.type == 0x7 }, "no GOAWAY: \(frames)")
        XCTAssertTrue(server.isActive)
        let figures = environment.stats.protocols.figures
        XCTAssertEqual(figures.http2Connections.opened, 1)
        XCTAssertEqual(figures.http2ConnectionErrors, 0)
    }

    /// The connection preface, an empty SETTINGS, and HEADERS (END_STREAM | END_HEADERS) on stream 1
    /// for `GET https://localhost/nowhere` (HPACK static-table entries and one literal).
    private static let prefaceAndRequest: ByteBuffer = {
        var buffer = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        buffer.writeBytes([0, 0, 0, 0x4, 0, 0, 0, 0, 0])
        var block: [UInt8] = [0x82, 0x87, 0x04, 0x08]  // :method GET, :scheme https, :path (literal, 8 bytes)
        block += Array("/nowhere".utf8)
        block += [0x41, 0x09] + Array("localhost".utf8)  // :authority localhost
        buffer.writeBytes([0, 0, UInt8(block.count), 0x1, 0x5, 0, 0, 0, 1])
        buffer.writeBytes(block)
        return buffer
    }()

    /// The frames in `buffer`: type and stream of each whole one.
    private static func frames(_ buffer: ByteBuffer) -> [(type: UInt8, stream: UInt32)] {
        var buffer = buffer
        var frames: [(type: UInt8, stream: UInt32)] = []
        while buffer.readableBytes >= 9,
            let header = buffer.readBytes(length: 9)
        {
            let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            let stream = (UInt32(header[5]) << 24 | UInt32(header[6]) << 16 | UInt32(header[7]) << 8 | UInt32(header[8])) & 0x7FFF_FFFF
            frames.append((header[3], stream))
            guard buffer.readSlice(length: length) != nil else { break }
        }
        return frames
    }
}
