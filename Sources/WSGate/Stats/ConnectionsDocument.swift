import NIOCore

/// The `/stats/connections` document: how many live sessions match the query, and the listed ones.
struct ConnectionsDocument: Encodable, Sendable {
    struct Connection: Encodable, Sendable {
        struct TowardSides<Value: Encodable & Sendable>: Encodable, Sendable {
            var towardClient: Value
            var towardUpstream: Value

            enum CodingKeys: String, CodingKey {
                case towardClient = "toward_client"
                case towardUpstream = "toward_upstream"
            }
        }

        var id: Int
        var route: String
        /// `null` when the socket had no address.
        @EncodedAsNull var clientAddress: String?
        var upstreamEndpoint: String
        var path: String
        /// `null` without one.
        @EncodedAsNull var subprotocol: String?
        /// Only on routes with `auth`, and left out when the token named none.
        var subject: String?
        var compressed: Bool
        /// `http/1.1`, or `h2` for a WebSocket on an HTTP/2 stream (RFC 8441).
        var clientProtocol: String
        var ageSeconds: Double
        var messages: PerDirection<Int>
        var bytes: PerDirection<Int>
        var bufferedBytes: TowardSides<Int>
        var paused: TowardSides<Bool>

        enum CodingKeys: String, CodingKey {
            case id, route
            case clientAddress = "client_address"
            case upstreamEndpoint = "upstream_endpoint"
            case path, subprotocol, subject, compressed
            case clientProtocol = "client_protocol"
            case ageSeconds = "age_seconds"
            case messages, bytes
            case bufferedBytes = "buffered_bytes"
            case paused
        }

        init(_ connection: ConnectionInfo) {
            let identity = connection.identity
            self.id = Int(identity.id)
            self.route = identity.route
            self.clientAddress = identity.clientAddress?.hostAndPort
            self.upstreamEndpoint = identity.upstreamEndpoint
            self.path = identity.path
            self.subprotocol = identity.subprotocol
            self.subject = identity.subject
            self.compressed = identity.compressed
            self.clientProtocol = identity.clientProtocol
            self.ageSeconds = Double(connection.age.nanoseconds) / 1e9
            self.messages = connection.traffic.messages
            self.bytes = connection.traffic.bytes
            self.bufferedBytes = TowardSides(
                towardClient: connection.bufferedTowardClient,
                towardUpstream: connection.bufferedTowardUpstream
            )
            self.paused = TowardSides(
                towardClient: connection.pausedTowardClient,
                towardUpstream: connection.pausedTowardUpstream
            )
        }
    }

    /// Sessions matching the query's route, before `limit`.
    var count: Int
    var connections: [Connection]

    init(_ connections: [ConnectionInfo], matching: Int) {
        self.count = matching
        self.connections = connections.map(Connection.init)
    }
}
