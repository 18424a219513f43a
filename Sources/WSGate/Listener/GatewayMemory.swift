import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// What the gateway's sessions hold in memory, sampled on each EventLoop, against ``MemoryBudget``.
///
/// Every `interval` each loop adds up the bytes queued toward its sessions' legs and the zlib memory
/// of its streams, publishes its sum, and, when the whole gateway is over budget, closes its share of
/// the sessions holding most. Reading the total (admission, `/stats`) takes one lock; the frame path
/// never touches it.
final class GatewayMemory: Sendable {
    /// How often each loop samples.
    static let interval = TimeAmount.milliseconds(200)

    private struct Sample: Sendable {
        var queued = 0
        var zlib = 0
    }

    private let samples = NIOLockedValueBox<[ObjectIdentifier: Sample]>([:])
    private let tasks = NIOLockedValueBox<[RepeatedTask]>([])
    let budget: NIOLockedValueBox<MemoryBudget>

    init(budget: MemoryBudget) {
        self.budget = NIOLockedValueBox(budget)
    }

    /// Bytes queued toward every leg of every session, and zlib memory, over all loops (last samples).
    var used: (queued: Int, zlib: Int) {
        self.samples.withLockedValue { samples in
            samples.values.reduce((0, 0)) { ($0.0 + $1.queued, $0.1 + $1.zlib) }
        }
    }

    var pressure: MemoryBudget.Pressure {
        let used = self.used
        return self.budget.withLockedValue { $0 }.pressure(used: used.queued + used.zlib)
    }

    /// Starts sampling on every loop of `group`.
    func start(group: any EventLoopGroup, services: GatewayServices) {
        for eventLoop in group.makeIterator() {
            let task = eventLoop.scheduleRepeatedTask(initialDelay: Self.interval, delay: Self.interval) { [self] _ in
                self.sample(on: eventLoop, services: services)
            }
            self.tasks.withLockedValue { $0.append(task) }
        }
    }

    func stop() {
        for task in self.tasks.withLockedValue({ tasks in defer { tasks = [] }; return tasks }) {
            task.cancel()
        }
    }

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
        let sample = Sample(queued: queued, zlib: loopState.compression.memory.bytesInUse)
        let key = ObjectIdentifier(eventLoop)
        let total = self.samples.withLockedValue { samples in
            samples[key] = sample
            return samples.values.reduce(0) { $0 + $1.queued + $1.zlib }
        }
        let budget = self.budget.withLockedValue { $0 }
        let excess = budget.excess(used: total)
        guard excess > 0 else { return }
        // This loop's share of the excess, in proportion to what it holds.
        let mine = Int((Double(excess) * Double(sample.queued + sample.zlib) / Double(max(total, 1))).rounded(.up))
        let chosen = Set(MemoryBudget.sessionsToClose(holding: holding, excess: mine))
        for session in sessions where chosen.contains(session.identity.id) {
            session.closeForMemoryBudget()
        }
    }
}
