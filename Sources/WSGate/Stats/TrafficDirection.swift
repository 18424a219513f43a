/// Which way data flows through a session, as the stats and metrics name it.
enum TrafficDirection: String, Sendable, Hashable, CaseIterable {
    /// From the client, toward the upstream.
    case clientToUpstream = "client_to_upstream"
    /// From the upstream (or the built-in echo), toward the client.
    case upstreamToClient = "upstream_to_client"
}

/// One value per direction.
struct PerDirection<Value: Sendable & Equatable>: Sendable, Equatable {
    var clientToUpstream: Value
    var upstreamToClient: Value

    init(_ value: Value) {
        self.clientToUpstream = value
        self.upstreamToClient = value
    }

    init(clientToUpstream: Value, upstreamToClient: Value) {
        self.clientToUpstream = clientToUpstream
        self.upstreamToClient = upstreamToClient
    }

    /// Mutated in place (`_modify`), so a value holding arrays (``ExactHistogram``) is not copied
    /// on each update, as a get/set pair would do on the frame path.
    subscript(direction: TrafficDirection) -> Value {
        get { direction == .clientToUpstream ? self.clientToUpstream : self.upstreamToClient }
        _modify {
            if direction == .clientToUpstream {
                yield &self.clientToUpstream
            } else {
                yield &self.upstreamToClient
            }
        }
    }
}

/// `{"client_to_upstream": …, "upstream_to_client": …}` in the `/stats` documents.
extension PerDirection: Encodable where Value: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TrafficDirection.self)
        for direction in TrafficDirection.allCases {
            try container.encode(self[direction], forKey: direction)
        }
    }
}

/// The directions are the keys of the per-direction objects of `/stats`.
extension TrafficDirection: CodingKey {}

extension PerDirection where Value == Int {
    /// Zero both ways.
    static var zero: Self { Self(0) }

    static func + (lhs: Self, rhs: Self) -> Self {
        Self(
            clientToUpstream: lhs.clientToUpstream + rhs.clientToUpstream,
            upstreamToClient: lhs.upstreamToClient + rhs.upstreamToClient
        )
    }
}
