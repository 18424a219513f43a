/// The HTTP proxy connections of one gateway on one EventLoop, as the memory budget sees them: the
/// bytes each has queued toward its client and its upstream connection, and which to close when
/// the gateway is over `limits.max_memory` (beside the WebSocket sessions). Loop-confined.
final class HTTPProxyRegistry {
    private var connections: [UInt64: HTTPProxyHandler] = [:]

    init() {}

    func register(_ connection: HTTPProxyHandler) {
        self.connections[connection.id] = connection
    }

    func unregister(_ connection: HTTPProxyHandler) {
        self.connections[connection.id] = nil
    }

    var all: Dictionary<UInt64, HTTPProxyHandler>.Values { self.connections.values }
}

@available(*, unavailable)
extension HTTPProxyRegistry: Sendable {}
