import NIOCore
import NIOEmbedded
import NIOWebSocket
import XCTest

@testable import WSGate

/// A proxy session between two EmbeddedChannel legs (frame events in and out, no endpoint), and
/// with the built-in echo leg: relay, close propagation, backpressure, the `max_buffered` ceiling.
final class ProxySessionTests: XCTestCase {
    /// Stands for an HTTP/2 stream handler: the queued bytes a test says.
    private final class Queue: SessionLegQueue {
        var queuedBytes = 0
    }

    /// Counts the reads that pass the leg handler.
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = WebSocketFrameEvent
        var reads = 0

        func read(context: ChannelHandlerContext) {
            self.reads += 1
            context.read()
        }
    }

    private let loop = EmbeddedEventLoop()
    private let allocator = ByteBufferAllocator()
    private var environment: SessionEnvironment!
    private var session: ProxySession!
    private var client: EmbeddedChannel!
    private var upstream: EmbeddedChannel!
    private let clientReads = ReadCounter()
    private let upstreamQueue = Queue()

    private func start(backpressure: BackpressureConfiguration = BackpressureConfiguration(), echo: Bool = false) throws {
        self.environment = .standalone()
        let route = RouteConfiguration(name: "r", upstream: "up", limits: Limits(idleTimeout: .zero), backpressure: backpressure)
        let identity = SessionIdentity(
            id: 1,
            route: "r",
            clientAddress: nil,
            upstreamEndpoint: echo ? "echo" : "up",
            path: "/",
            subprotocol: nil,
            compressed: false,
            started: .now()
        )
        let session = ProxySession(identity: identity, eventLoop: self.loop, route: route, environment: self.environment)
        self.session = session
        let clientLeg = ProxyLegHandler(leg: .client, session: session, streamQueue: Queue())
        self.client = EmbeddedChannel(loop: self.loop)
        try self.client.pipeline.syncOperations.addHandlers([self.clientReads, clientLeg])
        if echo {
            session.attach(EchoLeg(session: session, client: clientLeg), as: .upstream)
        } else {
            self.upstream = EmbeddedChannel(
                handler: ProxyLegHandler(leg: .upstream, session: session, streamQueue: self.upstreamQueue),
                loop: self.loop
            )
        }
        for channel in [self.client, self.upstream].compactMap({ $0 }) {
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }
        self.environment.sessions.register(session)
    }

    override func tearDown() {
        _ = try? self.client?.finish()
        _ = try? self.upstream?.finish()
    }

    private func text(_ string: String) -> [WebSocketFrameEvent] {
        [
            .frameHead(WebSocketDataFrameHead(opcode: .text, fin: true, payloadLength: string.utf8.count)),
            .payload(self.allocator.buffer(string: string), endsFrame: true),
        ]
    }

    private func written(_ channel: EmbeddedChannel) throws -> [WebSocketFrameEvent] {
        var events: [WebSocketFrameEvent] = []
        while let event = try channel.readOutbound(as: WebSocketFrameEvent.self) { events.append(event) }
        return events
    }

    private func closes(_ channel: EmbeddedChannel) throws -> [WebSocketCloseStatus] {
        try self.written(channel).compactMap { event in
            if case .close(let status) = event { return status }
            return nil
        }
    }

    private var counters: RouteStats { self.environment.stats.route("r").stats }

    func testFramesAreRelayedBothWaysAndCounted() throws {
        try self.start()
        for event in self.text("hello") { try self.client.writeInbound(event) }
        XCTAssertEqual(try self.written(self.upstream), self.text("hello"))
        for event in self.text("hi") { try self.upstream.writeInbound(event) }
        XCTAssertEqual(try self.written(self.client), self.text("hi"))
        XCTAssertEqual(self.session.traffic.messages[.clientToUpstream], 1)
        XCTAssertEqual(self.session.traffic.bytes[.upstreamToClient], 2)
    }

    func testACloseIsRelayedAndTheSessionEndsWhenBothLegsAreGone() throws {
        try self.start()
        let bye = WebSocketCloseStatus(code: .normalClosure, reason: "bye")
        try self.client.writeInbound(WebSocketFrameEvent.close(bye))
        XCTAssertEqual(try self.written(self.upstream), [.close(bye)])
        XCTAssertEqual(self.environment.sessions.count, 1)

        try self.client.close().wait()
        XCTAssertEqual(self.environment.sessions.count, 1, "the upstream still runs its close handshake")
        try self.upstream.close().wait()
        XCTAssertEqual(self.environment.sessions.count, 0)
        XCTAssertEqual(self.counters.closes, [RouteStats.CloseKey(code: 1000, side: .client): 1])
    }

    func testALostUpstreamIsTold1014ToTheClient() throws {
        try self.start()
        try self.upstream.writeInbound(WebSocketFrameEvent.failed(.connectionLost("connection lost")))
        XCTAssertEqual(try self.closes(self.client).map(\.code), [.badGateway])
    }

    func testAnUnwritableLegPausesTheOtherLegsReadsUntilItDrains() throws {
        try self.start()
        self.client.read()
        XCTAssertEqual(self.clientReads.reads, 1)

        self.upstream.isWritable = false
        self.upstream.pipeline.fireChannelWritabilityChanged()
        self.client.read()
        XCTAssertEqual(self.clientReads.reads, 1, "the client is not read while the upstream is full")
        XCTAssertEqual(self.counters.backpressurePauses[.clientToUpstream], 1)

        self.upstream.isWritable = true
        self.upstream.pipeline.fireChannelWritabilityChanged()
        XCTAssertEqual(self.clientReads.reads, 2, "the held read is issued")
    }

    func testMoreThanMaxBufferedTowardTheUpstreamClosesTheSession() throws {
        try self.start(backpressure: BackpressureConfiguration(highWater: 64, lowWater: 16, maxBuffered: 100, onLimit: .pause))
        self.upstream.isWritable = false
        self.upstreamQueue.queuedBytes = 101
        for event in self.text("one more") { try self.client.writeInbound(event) }

        XCTAssertEqual(try self.closes(self.client).map(\.code), [.tryAgainLater])
        XCTAssertEqual(try self.closes(self.upstream).map(\.code), [.policyViolation])
        XCTAssertEqual(self.counters.limitHits[LimitName.backpressure], 1, "the ceiling holds whatever on_limit says")
    }

    // MARK: Echo

    func testTheEchoLegSendsEveryFrameBackAndCountsBothDirections() throws {
        try self.start(echo: true)
        for event in self.text("ping") { try self.client.writeInbound(event) }
        XCTAssertEqual(try self.written(self.client), self.text("ping"))
        XCTAssertEqual(self.session.traffic.messages[.clientToUpstream], 1)
        XCTAssertEqual(self.session.traffic.messages[.upstreamToClient], 1)
        XCTAssertEqual(self.session.traffic.bytes[.upstreamToClient], 4)
    }

    func testASlowEchoClientIsNotReadUntilItDrains() throws {
        try self.start(echo: true)
        self.client.isWritable = false
        self.client.pipeline.fireChannelWritabilityChanged()
        self.client.read()
        XCTAssertEqual(self.clientReads.reads, 0, "what the client sends would be echoed into its full queue")
        self.client.isWritable = true
        self.client.pipeline.fireChannelWritabilityChanged()
        XCTAssertEqual(self.clientReads.reads, 1)
    }

    func testAnEchoSessionEndsWithItsClient() throws {
        try self.start(echo: true)
        let bye = WebSocketCloseStatus(code: .normalClosure, reason: "bye")
        try self.client.writeInbound(WebSocketFrameEvent.close(bye))
        XCTAssertEqual(try self.written(self.client), [], "the client's endpoint answers its close, not the session")
        XCTAssertEqual(self.clientReads.reads, 0, "no read re-enters the client while it reads its close")
        XCTAssertEqual(self.environment.sessions.count, 1)
        try self.client.close().wait()
        XCTAssertEqual(self.environment.sessions.count, 0)
        XCTAssertEqual(self.counters.closes, [RouteStats.CloseKey(code: 1000, side: .client): 1])
    }

    func testAnEchoSessionClosedByTheGatewayClosesItsClient() throws {
        try self.start(echo: true)
        self.session.close(WebSocketCloseStatus(code: .goingAway, reason: "shutting down"))
        XCTAssertEqual(try self.written(self.client), [.close(WebSocketCloseStatus(code: .goingAway, reason: "shutting down"))])
        try self.client.close().wait()
        XCTAssertEqual(self.environment.sessions.count, 0)
    }
}
