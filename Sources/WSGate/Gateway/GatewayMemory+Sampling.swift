import NIOConcurrencyHelpers
import NIOCore

extension GatewayMemory {
    /// Starts sampling the sessions and zlib streams of `services`' gateway on every loop of `group`.
    func start(group: any EventLoopGroup, services: GatewayServices) {
        self.start(group: group) { [self] eventLoop in
            self.sample(on: eventLoop, services: services)
        }
    }

    /// Publishes this loop's figures and, over budget, closes this loop's share of the sessions and
    /// HTTP proxy connections holding most.
    private func sample(on eventLoop: any EventLoop, services: GatewayServices) {
        let loopState = GatewayLoopState.current(for: services)
        let sessions = loopState.sessions.all
        var holding: [(id: UInt64, bytes: Int)] = []
        holding.reserveCapacity(sessions.count)
        var queued = 0
        for session in sessions {
            let bytes = session.queuedBytes
            queued += bytes
            holding.append((session.identity.id, bytes))
        }
        let proxies = loopState.httpProxies.all
        for proxy in proxies {
            let bytes = proxy.queuedBytes
            queued += bytes
            holding.append((proxy.id, bytes))
        }
        let sample = Sample(queued: queued, zlib: loopState.compression.memory.bytesInUse)
        let total = self.publish(sample, from: eventLoop)
        let budget = self.budget.withLockedValue { $0 }
        let excess = budget.excess(used: total)
        guard excess > 0 else { return }
        // This loop's share of the excess, in proportion to what it holds.
        let mine = Int((Double(excess) * Double(sample.queued + sample.zlib) / Double(max(total, 1))).rounded(.up))
        let chosen = Set(MemoryBudget.sessionsToClose(holding: holding, excess: mine))
        for session in sessions where chosen.contains(session.identity.id) {
            session.closeForMemoryBudget()
        }
        for proxy in proxies where chosen.contains(proxy.id) {
            proxy.closeForMemoryBudget()
        }
    }
}
