import NIOCore

extension Gateway {
    /// Runs `body` on every EventLoop of the gateway and returns what each returned, in loop order.
    ///
    /// This is how per-loop state (sessions, counters, pools) is read: each loop answers for its own
    /// state on its own thread, so that state needs no lock.
    func onEachEventLoop<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async throws -> [Value] {
        var values: [Value] = []
        for eventLoop in self.group.makeIterator() {
            values.append(try await eventLoop.submit(body).get())
        }
        return values
    }

    /// Ends every live session with `status` toward both of its legs (e.g. 1001 on shutdown) and
    /// returns how many there were.
    @discardableResult
    func closeAllSessions(_ status: WebSocketCloseStatus) async throws -> Int {
        let services = self.services
        return try await self.onEachEventLoop {
            let sessions = Array(GatewayLoopState.current(for: services).sessions.all)
            for session in sessions {
                session.close(status)
            }
            return sessions.count
        }.reduce(0, +)
    }

    /// Sends GOAWAY on every client HTTP/2 connection (``HTTP2ConnectionRegistry/quiesceAll()``):
    /// clients open no new streams; each connection closes once its last stream ended.
    func quiesceHTTP2Connections() async throws {
        let services = self.services
        _ = try await self.onEachEventLoop {
            GatewayLoopState.current(for: services).http2Connections.quiesceAll()
        }
    }
}
