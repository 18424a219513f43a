import Foundation
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL

/// Opens connections to the target on the load generator's event loops and drives them through
/// the phases of a run (warm-up, measuring, stop, close) via each loop's `LoopRecorder`.
///
/// One `LoadGenerator` serves one scenario run: its recorders start empty. With `http2Connections`
/// it opens those connections first (TLS, ALPN h2), and more if the run's `streams` would exceed
/// the server's MAX_CONCURRENT_STREAMS on them; every WebSocket is a stream of one of them.
struct LoadGenerator: Sendable {
    /// What opening a batch of connections gave.
    struct Opened: Sendable {
        var channels: [any Channel] = []
        var failures = 0
        var failureSamples: [String] = []
        var seconds = 0.0
    }

    let url: WebSocketURL
    let handshakeTimeout: TimeAmount
    /// Connections being opened at once (bounded so listen backlogs do not overflow).
    let connectConcurrency: Int
    private let recorders: [NIOLoopBound<LoopRecorder>]
    /// For wss:// URLs: TLS 1.3 only, the server's certificate not verified (a loopback target's
    /// throwaway certificate), so every target is offered the same handshake.
    private let tls: NIOSSLContext?
    /// `--http2`: the connections carrying the WebSockets, round robin; empty: a TCP connection
    /// per WebSocket. Connection `i` is on loop `i % loops`, beside its recorder.
    private let http2: [BenchHTTP2Connection]

    /// The HTTP/2 connections carrying the WebSockets (0 without `--http2`).
    var http2Connections: Int { self.http2.count }

    /// How a WebSocket asks for its upgrade.
    private enum Handshake: Sendable {
        /// The HTTP/1.1 upgrade request.
        case upgrade(ByteBuffer)
        /// The extended CONNECT on an HTTP/2 stream.
        case connect(HPACKHeaders)
    }

    init(
        url: WebSocketURL,
        group: MultiThreadedEventLoopGroup,
        connectConcurrency: Int,
        handshakeTimeout: TimeAmount,
        http2Connections: Int = 0,
        streams: Int = 0
    ) async throws {
        self.url = url
        self.handshakeTimeout = handshakeTimeout
        self.connectConcurrency = connectConcurrency
        var recorders: [NIOLoopBound<LoopRecorder>] = []
        for loop in group.makeIterator() {
            recorders.append(try await loop.submit { NIOLoopBound(LoopRecorder(), eventLoop: loop) }.get())
        }
        self.recorders = recorders
        if url.tls {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv13
            configuration.certificateVerification = .none
            if http2Connections > 0 {
                configuration.applicationProtocols = ["h2"]
            }
            self.tls = try NIOSSLContext(configuration: configuration)
        } else {
            self.tls = nil
        }
        var http2: [BenchHTTP2Connection] = []
        if http2Connections > 0 {
            guard let tls = self.tls else { throw BenchError.badArgument("--http2 needs a wss:// URL (h2 over TLS)") }
            var needed = http2Connections
            while http2.count < needed {
                let connection = try await BenchHTTP2Connection.connect(
                    host: url.host,
                    port: url.port,
                    tls: tls,
                    on: recorders[http2.count % recorders.count].eventLoop,
                    timeout: handshakeTimeout
                )
                if http2.isEmpty, let most = connection.maxConcurrentStreams, most > 0 {
                    needed = max(needed, (streams + most - 1) / most)
                }
                http2.append(connection)
            }
        }
        self.http2 = http2
    }

    /// Opens `count` connections to `path` (TCP connect and WebSocket upgrade), spread round robin
    /// over the loops, `connectConcurrency` at a time. Failures are counted, not thrown.
    /// With `offerDeflate`, the request offers permessage-deflate (as browsers do).
    func open(count: Int, path: String, role: BenchConnectionHandler.Role, offerDeflate: Bool = false) async -> Opened {
        let request =
            self.http2.isEmpty
            ? Handshake.upgrade(self.upgradeRequest(path: path, offerDeflate: offerDeflate))
            : Handshake.connect(
                BenchHTTP2StreamHandler.request(path: path, authority: self.url.authority, offerDeflate: offerDeflate)
            )
        let start = NIODeadline.now()
        var opened = Opened()
        await withTaskGroup(of: Result<any Channel, any Error>.self) { group in
            var next = 0
            func addNext() {
                let index = next
                next += 1
                group.addTask {
                    do {
                        return .success(try await self.connect(index: index, role: role, request: request))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            while next < min(count, self.connectConcurrency) {
                addNext()
            }
            while let result = await group.next() {
                switch result {
                case .success(let channel):
                    opened.channels.append(channel)
                case .failure(let error):
                    opened.failures += 1
                    if opened.failureSamples.count < 3 {
                        opened.failureSamples.append("\(error)")
                    }
                }
                if next < count {
                    addNext()
                }
            }
        }
        opened.seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        return opened
    }

    private func connect(index: Int, role: BenchConnectionHandler.Role, request: Handshake) async throws -> any Channel {
        switch request {
        case .upgrade(let request):
            return try await self.connect(index: index, role: role, request: request)
        case .connect(let headers):
            return try await self.openStream(index: index, role: role, request: headers)
        }
    }

    /// A stream of HTTP/2 connection `index % connections`, on that connection's loop.
    private func openStream(index: Int, role: BenchConnectionHandler.Role, request: HPACKHeaders) async throws -> any Channel {
        let connection = index % self.http2.count
        let recorder = self.recorders[connection % self.recorders.count]
        let upgraded = recorder.eventLoop.makePromise(of: Void.self)
        let created = recorder.eventLoop.makePromise(of: (any Channel).self)
        let handshakeTimeout = self.handshakeTimeout
        self.http2[connection].multiplexer.createStreamChannel(promise: created) { stream in
            stream.eventLoop.makeCompletedFuture {
                let handler = BenchConnectionHandler(
                    role: role,
                    request: nil,
                    recorder: recorder.value,
                    upgraded: upgraded,
                    handshakeTimeout: handshakeTimeout,
                    maskKey: UInt32.random(in: 1...UInt32.max)
                )
                try stream.pipeline.syncOperations.addHandlers(BenchHTTP2StreamHandler(request: request), handler)
            }
        }
        created.futureResult.whenFailure { upgraded.fail($0) }
        let stream = try await created.futureResult.get()
        try await upgraded.futureResult.get()
        return stream
    }

    private func connect(index: Int, role: BenchConnectionHandler.Role, request: ByteBuffer) async throws -> any Channel {
        let recorder = self.recorders[index % self.recorders.count]
        let loop = recorder.eventLoop
        let upgraded = loop.makePromise(of: Void.self)
        let handshakeTimeout = self.handshakeTimeout
        let tls = self.tls
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(handshakeTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    let handler = BenchConnectionHandler(
                        role: role,
                        request: request,
                        recorder: recorder.value,
                        upgraded: upgraded,
                        handshakeTimeout: handshakeTimeout,
                        maskKey: UInt32.random(in: 1...UInt32.max)
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .connect(host: self.url.host, port: self.url.port)
        connected.whenFailure { upgraded.fail($0) }
        let channel = try await connected.get()
        try await upgraded.futureResult.get()
        return channel
    }

    private func upgradeRequest(path: String, offerDeflate: Bool) -> ByteBuffer {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let text =
            "GET \(path) HTTP/1.1\r\n"
            + "Host: \(self.url.authority)\r\n"
            + "Upgrade: websocket\r\n"
            + "Connection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(Data(key).base64EncodedString())\r\n"
            + "Sec-WebSocket-Version: 13\r\n"
            + (offerDeflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "")
            + "\r\n"
        return ByteBuffer(string: text)
    }

    // MARK: Phases

    /// Starts the messages flowing on every connection (uncounted).
    func startWarmUp() async throws {
        try await self.onEveryLoop { $0.startWarmUp() }
    }

    func startMeasuring() async throws {
        try await self.onEveryLoop { $0.startMeasuring() }
    }

    /// Stops counting and sending; returns the merged counts.
    func stop() async throws -> LoopRecorder.Counts {
        var total = LoopRecorder.Counts()
        for counts in try await self.onEveryLoop({ $0.stop() }) {
            total.merge(counts)
        }
        return total
    }

    /// Errors counted so far (for runs that measure no messages, such as `idle`).
    func counts() async throws -> LoopRecorder.Counts {
        var total = LoopRecorder.Counts()
        for counts in try await self.onEveryLoop({ $0.counts }) {
            total.merge(counts)
        }
        return total
    }

    /// Closes every connection (close frame, then TCP close or stream reset) and waits, at most
    /// `timeout`, for the channels to be closed; then the HTTP/2 connections.
    func closeAll(_ channels: [any Channel], timeout: Duration = .seconds(10)) async throws {
        try await self.onEveryLoop { $0.closeAll() }
        let deadline = ContinuousClock.now + timeout
        for channel in channels {
            // A channel whose handshake failed is already closed; close() on it fails harmlessly.
            channel.close(promise: nil)
        }
        for channel in channels where ContinuousClock.now < deadline {
            try? await channel.closeFuture.get()
        }
        for connection in self.http2 {
            try? await connection.channel.close()
        }
    }

    @discardableResult
    private func onEveryLoop<Result: Sendable>(
        _ body: @escaping @Sendable (LoopRecorder) -> Result
    ) async throws -> [Result] {
        var results: [Result] = []
        for recorder in self.recorders {
            results.append(try await recorder.eventLoop.submit { body(recorder.value) }.get())
        }
        return results
    }
}
