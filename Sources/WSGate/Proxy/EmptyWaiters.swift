import NIOCore

/// The promises of those awaiting a loop-confined registry's last member (a graceful shutdown
/// awaits the sessions and the HTTP connections of each loop so): one mechanism for both registries.
struct EmptyWaiters {
    private var promises: [EventLoopPromise<Void>] = []

    init() {}

    /// Succeeds at once when the registry `isEmpty`, else at the next ``emptied()``.
    mutating func wait(isEmpty: Bool, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard !isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        self.promises.append(promise)
        return promise.futureResult
    }

    /// The registry's last member left: every waiter succeeds.
    mutating func emptied() {
        guard !self.promises.isEmpty else { return }
        let promises = self.promises
        self.promises = []
        for promise in promises { promise.succeed() }
    }
}
