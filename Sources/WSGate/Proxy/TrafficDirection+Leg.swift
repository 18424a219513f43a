extension TrafficDirection {
    /// The direction of what `leg` reads.
    init(readBy leg: ProxySessionStateMachine.Leg) {
        self = leg == .client ? .clientToUpstream : .upstreamToClient
    }

    /// The direction of what is written to `leg`.
    init(writtenTo leg: ProxySessionStateMachine.Leg) {
        self = leg == .client ? .upstreamToClient : .clientToUpstream
    }
}
