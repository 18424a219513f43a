import NIOCore

/// The HTTP proxy connections of one gateway on one EventLoop, as the memory budget and a graceful
/// shutdown see them: the bytes each has queued toward its client and its upstream connection,
/// which to close when the gateway is over `limits.max_memory` (beside the WebSocket sessions), and
/// when the last one is gone. Loop-confined.
final class HTTPProxyRegistry {
    private var connections: [UInt64: HTTPProxyHandler] = [:]
    private var emptyWaiters = EmptyWaiters()
    /// Whether a graceful shutdown began (``drain()``): a connection that joins now (its handshake
    /// was under way) closes after its first exchange.
    private(set) var isDraining = false

    init() {}

    func register(_ connection: HTTPProxyHandler) {
        self.connections[connection.id] = connection
    }

    func unregister(_ connection: HTTPProxyHandler) {
        self.connections[connection.id] = nil
        if self.connections.isEmpty { self.emptyWaiters.emptied() }
    }

    var all: Dictionary<UInt64, HTTPProxyHandler>.Values { self.connections.values }

    /// A graceful shutdown began: connections between requests close now, the others after the
    /// exchange in progress (its answer says `Connection: close` when its head is not out yet).
    func drain() {
        self.isDraining = true
        for connection in Array(self.connections.values) { connection.drain() }
    }

    /// Succeeds once this loop has no HTTP proxy connection left. Call on `eventLoop`.
    func whenEmpty(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        self.emptyWaiters.wait(isEmpty: self.connections.isEmpty, on: eventLoop)
    }

    /// Closes every connection left (the drain's grace is over); returns how many there were.
    func closeAll() -> Int {
        let connections = Array(self.connections.values)
        for connection in connections { connection.close() }
        return connections.count
    }
}

@available(*, unavailable)
extension HTTPProxyRegistry: Sendable {}
