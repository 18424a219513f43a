import NIOCore
import Synchronization

/// The live proxy sessions of one gateway on one EventLoop: what the connection list of the stats
/// endpoint shows and what a graceful shutdown closes.
///
/// Each EventLoop thread has its own registry per gateway (``GatewayLoopState``), used only on that
/// thread, so registering a session costs no lock. Readers run on each loop (``Gateway/onEachEventLoop(_:)``).
final class SessionRegistry {
    private var sessions: [UInt64: ProxySession] = [:]
    /// Completed when the last session ends (``whenEmpty(on:)``).
    private var emptyWaiters = EmptyWaiters()

    /// Session ids, unique across loops (touched once per session, never per frame).
    private static let lastID = Atomic<UInt64>(0)

    /// A new process-wide session id.
    static func makeID() -> UInt64 {
        Self.lastID.wrappingAdd(1, ordering: .relaxed).newValue
    }

    func register(_ session: ProxySession) {
        self.sessions[session.identity.id] = session
    }

    func unregister(_ session: ProxySession) {
        self.sessions[session.identity.id] = nil
        if self.sessions.isEmpty { self.emptyWaiters.emptied() }
    }

    /// Succeeds once this loop has no live session: at once when it has none, else when the last
    /// one ends (both legs closed). How a graceful shutdown awaits the close handshakes.
    /// Call on `eventLoop`, the loop this registry belongs to.
    func whenEmpty(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        self.emptyWaiters.wait(isEmpty: self.sessions.isEmpty, on: eventLoop)
    }

    /// The live sessions of this loop, in no particular order.
    var all: Dictionary<UInt64, ProxySession>.Values { self.sessions.values }

    var count: Int { self.sessions.count }
}

@available(*, unavailable)
extension SessionRegistry: Sendable {}
