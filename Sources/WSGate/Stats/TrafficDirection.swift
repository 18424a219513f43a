/// Which way data flows through a session, as the stats and metrics name it.
public enum TrafficDirection: String, Sendable, Hashable, CaseIterable {
    /// From the client, toward the upstream.
    case clientToUpstream = "client_to_upstream"
    /// From the upstream (or the built-in echo), toward the client.
    case upstreamToClient = "upstream_to_client"

    /// The direction of what `leg` reads.
    init(readBy leg: ProxySessionStateMachine.Leg) {
        self = leg == .client ? .clientToUpstream : .upstreamToClient
    }

    /// The direction of what is written to `leg`.
    init(writtenTo leg: ProxySessionStateMachine.Leg) {
        self = leg == .client ? .upstreamToClient : .clientToUpstream
    }
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

extension PerDirection where Value == Int {
    /// Zero both ways.
    static var zero: Self { Self(0) }

    static func + (lhs: Self, rhs: Self) -> Self {
        Self(clientToUpstream: lhs.clientToUpstream + rhs.clientToUpstream, upstreamToClient: lhs.upstreamToClient + rhs.upstreamToClient)
    }
}
