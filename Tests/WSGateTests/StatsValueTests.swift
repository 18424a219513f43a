import NIOCore
import NIOHTTP1
import NIOWebSocket
import XCTest

@testable import WSGate

/// The value types behind the stats: histograms, message tracking, connection admission, the access
/// log line formats, the admin token check and the connection list query.
final class StatsValueTests: XCTestCase {
    func testExactHistogramBucketsMergesAndReplaysExactly() {
        var histogram = ExactHistogram(bounds: [10, 100])
        for value in [1, 10, 11, 100, 101, 5000] { histogram.observe(value) }
        XCTAssertEqual(histogram.counts, [2, 2, 2])
        XCTAssertEqual(histogram.sums, [11, 111, 5101])
        var other = ExactHistogram(bounds: [10, 100])
        other.observe(50)
        histogram.merge(other)
        XCTAssertEqual(histogram.counts, [2, 3, 2])
        XCTAssertEqual(histogram.count, 7)
        XCTAssertEqual(histogram.sum, 5273)

        // 3 observations in (10, 100] summing to 161: replayed as 53, 54, 54 — all in the bucket.
        let replay = ExactHistogram.replayValues(count: 3, sum: 161)
        XCTAssertEqual(replay.map(\.value), [53, 54])
        XCTAssertEqual(replay.map(\.times), [1, 2])
        XCTAssertEqual(replay.reduce(0) { $0 + $1.value * $1.times }, 161)
        XCTAssertEqual(ExactHistogram.replayValues(count: 2, sum: 22).map(\.value), [11])
        XCTAssertTrue(ExactHistogram.replayValues(count: 0, sum: 0).isEmpty)
    }

    func testMessageSizeTrackerFollowsFramesAndSlices() {
        var tracker = MessageSizeTracker()
        // A message of two frames (3 + 4 bytes), the second arriving in two slices.
        XCTAssertEqual(tracker.frameHead(WebSocketDataFrameHead(opcode: .text, fin: false, payloadLength: 3)).startsMessage, true)
        XCTAssertNil(tracker.payload(3, endsFrame: true))
        let continuation = tracker.frameHead(WebSocketDataFrameHead(opcode: .continuation, fin: true, payloadLength: 4))
        XCTAssertFalse(continuation.startsMessage)
        XCTAssertNil(continuation.completedSize)
        XCTAssertNil(tracker.payload(1, endsFrame: false))
        XCTAssertEqual(tracker.payload(3, endsFrame: true), 7)
        // An empty message completes at its header.
        let empty = tracker.frameHead(WebSocketDataFrameHead(opcode: .binary, fin: true, payloadLength: 0))
        XCTAssertEqual(empty.startsMessage, true)
        XCTAssertEqual(empty.completedSize, 0)
    }

    /// A client's HTTP/2 stream: its handshake takes a pending slot (over the limit it is refused,
    /// not shed), and a WebSocket stream counts as a connection of the gateway and of its IP.
    func testConnectionAdmissionCountsHTTP2Streams() {
        var admission = ConnectionAdmission()
        let limits = GatewayLimits(maxConnections: 0, maxConnectionsPerIP: 3, maxPendingHandshakes: 3)
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .admitted)
        admission.handshakeFinished()  // the connection negotiated h2
        XCTAssertEqual(admission.acceptStream(ip: "10.0.0.1", limits: limits, countsAsConnection: false), .admitted)
        XCTAssertEqual(admission.total, 1, "a request stream is no connection")
        XCTAssertEqual(admission.acceptStream(ip: "10.0.0.1", limits: limits, countsAsConnection: true), .admitted)
        XCTAssertEqual(admission.acceptStream(ip: "10.0.0.1", limits: limits, countsAsConnection: true), .admitted)
        XCTAssertEqual(admission.total, 3)
        XCTAssertEqual(admission.pendingHandshakes, 3)
        XCTAssertEqual(
            admission.acceptStream(ip: "10.0.0.1", limits: limits, countsAsConnection: false),
            .refused(.pendingHandshakes),
            "three handshakes in progress: a fourth stream is answered 503"
        )
        admission.handshakeFinished()
        XCTAssertEqual(
            admission.acceptStream(ip: "10.0.0.1", limits: limits, countsAsConnection: true),
            .refused(.perIP),
            "the IP holds three connections, two of them WebSocket streams"
        )
        XCTAssertEqual(ConnectionAdmission.Refusal.pendingHandshakes.limitName, LimitName.maxPendingHandshakes)
    }

    func testConnectionAdmissionChecksGatewayRouteAndIP() {
        var admission = ConnectionAdmission()
        let limits = GatewayLimits(maxConnections: 3, maxConnectionsPerIP: 2)
        // Counted from accept: gateway and IP there, the route once it is known.
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .admitted)
        XCTAssertNil(admission.admit(route: "a", routeLimit: 1))
        XCTAssertEqual(admission.accept(ip: "10.0.0.2", limits: limits), .admitted)
        XCTAssertEqual(admission.admit(route: "a", routeLimit: 1), .route)
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .admitted)
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .refused(.global))
        admission.release(ip: "10.0.0.2")
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .refused(.perIP))
        XCTAssertEqual(admission.accept(ip: "10.0.0.5", limits: limits), .admitted)
        XCTAssertEqual(admission.total, 3)
        XCTAssertEqual(admission.pendingHandshakes, 6)
        for _ in 0..<6 { admission.handshakeFinished() }
        admission.release(route: "a")
        for ip in ["10.0.0.1", "10.0.0.1", "10.0.0.5"] {
            admission.release(ip: ip)
        }
        XCTAssertEqual(admission, ConnectionAdmission(), "released slots leave no keys behind")
        XCTAssertEqual(ConnectionAdmission.Refusal.perIP.limitName, "max_connections_per_ip")
    }

    /// Silent connections hold pending-handshake slots; past `max_pending_handshakes` new ones are shed.
    func testPendingHandshakesAreCappedFromAccept() {
        var admission = ConnectionAdmission()
        let limits = GatewayLimits(maxConnections: 0, maxConnectionsPerIP: 0, maxPendingHandshakes: 2)
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .admitted)
        XCTAssertEqual(admission.accept(ip: "10.0.0.1", limits: limits), .admitted)
        XCTAssertEqual(admission.accept(ip: "10.0.0.2", limits: limits), .shed)
        admission.handshakeFinished()
        XCTAssertEqual(admission.accept(ip: "10.0.0.2", limits: limits), .admitted)
        XCTAssertEqual(admission.total, 3)
    }

    func testAccessLogLinesInJSONAndText() throws {
        let identity = SessionIdentity(
            id: 7,
            route: "chat",
            clientAddress: try SocketAddress(ipAddress: "10.1.2.3", port: 5555),
            upstreamEndpoint: "10.0.0.9:9001",
            path: "/room \"1\"",
            subprotocol: nil,
            compressed: true,
            started: .now()
        )
        var traffic = SessionTraffic()
        traffic.messages = PerDirection(clientToUpstream: 2, upstreamToClient: 3)
        traffic.bytes = PerDirection(clientToUpstream: 20, upstreamToClient: 30)
        let entry = AccessLogEntry.session(
            AccessLogEntry.Session(
                identity: identity,
                duration: .microseconds(1_234_567),
                traffic: traffic,
                close: RouteStats.CloseKey(code: 1000, side: .upstream),
                time: Date(timeIntervalSince1970: 1_800_000_000.25)
            )
        )
        XCTAssertEqual(
            AccessLogFormatter(format: .json).line(entry),
            #"{"time":"2027-01-15T08:00:00.250Z","event":"session","id":7,"client":"10.1.2.3:5555","route":"chat","#
                + #""upstream":"10.0.0.9:9001","path":"/room \"1\"","subprotocol":null,"compression":true,"#
                + #""client_protocol":"http/1.1","duration_ms":1234.567,"messages_in":2,"messages_out":3,"bytes_in":20,"bytes_out":30,"#
                + #""close_code":1000,"close_side":"upstream"}"# + "\n"
        )
        XCTAssertEqual(
            AccessLogFormatter(format: .text).line(entry),
            #"time=2027-01-15T08:00:00.250Z event=session id=7 client=10.1.2.3:5555 route=chat upstream=10.0.0.9:9001 "#
                + #"path="/room \"1\"" compression=true client_protocol=http/1.1 duration_ms=1234.567 messages_in=2 messages_out=3 "#
                + #"bytes_in=20 bytes_out=30 close_code=1000 close_side=upstream"# + "\n"
        )
    }

    func testAdminTokenCheck() {
        XCTAssertTrue(AdminService.authorized("Bearer abc", token: "abc"))
        XCTAssertFalse(AdminService.authorized("Bearer abcd", token: "abc"))
        XCTAssertFalse(AdminService.authorized("Bearer ab", token: "abc"))
        XCTAssertFalse(AdminService.authorized("bearer abc", token: "abc"))
        XCTAssertFalse(AdminService.authorized(nil, token: "abc"))
    }

    func testConnectionListQuery() throws {
        let query = try ConnectionListQuery(query: "route=a%20b&sort=buffered&limit=5")
        XCTAssertEqual(query.route, "a b")
        XCTAssertEqual(query.sort, .buffered)
        XCTAssertEqual(query.limit, 5)
        XCTAssertEqual(try ConnectionListQuery(query: "").limit, 100)
        XCTAssertThrowsError(try ConnectionListQuery(query: "limit=-1"))
        XCTAssertThrowsError(try ConnectionListQuery(query: "colour=red"))
        XCTAssertEqual(try ConnectionListQuery(query: "limit=3&&").limit, 3)
    }

    /// Issue 11, finding 2: a pair without a name trapped (`"=".split(separator: "=")` is empty).
    func testConnectionListQueryWithoutANameIsAnErrorNotATrap() {
        for query in ["=", "==", "&=&", "=buffered", "&=", "sort=age&="] {
            XCTAssertThrowsError(try ConnectionListQuery(query: query), query) { error in
                XCTAssertTrue((error as? AdminRequestError)?.message.contains("no name") == true, query)
            }
        }
        XCTAssertEqual(try ConnectionListQuery(query: "route==x").route, "=x")
    }
}
