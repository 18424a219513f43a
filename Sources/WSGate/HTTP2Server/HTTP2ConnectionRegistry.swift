/// The client HTTP/2 connections of one gateway on one EventLoop, for the graceful shutdown, which
/// sends each a GOAWAY (``HTTP2ServerConnectionHandler/quiesce()``). Loop-confined.
final class HTTP2ConnectionRegistry {
    private var connections: [ObjectIdentifier: HTTP2ServerConnectionHandler] = [:]

    init() {}

    func register(_ connection: HTTP2ServerConnectionHandler) {
        self.connections[ObjectIdentifier(connection)] = connection
    }

    func unregister(_ connection: HTTP2ServerConnectionHandler) {
        self.connections[ObjectIdentifier(connection)] = nil
    }

    /// GOAWAY on every connection: clients open no more streams; each closes when its last stream ends.
    func quiesceAll() {
        for connection in Array(self.connections.values) {
            connection.quiesce()
        }
    }
}

@available(*, unavailable)
extension HTTP2ConnectionRegistry: Sendable {}
