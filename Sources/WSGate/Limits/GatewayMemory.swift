import NIOConcurrencyHelpers
import NIOCore

/// What the gateway's sessions hold in memory, sampled on each EventLoop, against ``MemoryBudget``.
///
/// Every `interval` each loop adds up the bytes queued toward its sessions' legs and the zlib memory
/// of its streams, publishes its sum, and, when the whole gateway is over budget, closes its share of
/// the sessions holding most (the sampling, which reads the sessions, is the gateway's:
/// `GatewayMemory+Sampling.swift`). Reading the total (admission, `/stats`) takes one lock; the frame
/// path never touches it.
final class GatewayMemory: Sendable {
    /// How often each loop samples.
    static let interval = TimeAmount.milliseconds(200)

    /// One loop's last figures.
    struct Sample: Sendable {
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

    /// Runs `sample` on every loop of `group` every ``interval``, until ``stop()``.
    func start(group: any EventLoopGroup, sampling sample: @escaping @Sendable (any EventLoop) -> Void) {
        for eventLoop in group.makeIterator() {
            let task = eventLoop.scheduleRepeatedTask(initialDelay: Self.interval, delay: Self.interval) { _ in
                sample(eventLoop)
            }
            self.tasks.withLockedValue { $0.append(task) }
        }
    }

    func stop() {
        for task in self.tasks.withLockedValue({ tasks in
            defer { tasks = [] }
            return tasks
        }) {
            task.cancel()
        }
    }

    /// Records `sample` as the last of `eventLoop`'s and returns what the whole gateway holds.
    func publish(_ sample: Sample, from eventLoop: any EventLoop) -> Int {
        let key = ObjectIdentifier(eventLoop)
        return self.samples.withLockedValue { samples in
            samples[key] = sample
            return samples.values.reduce(0) { $0 + $1.queued + $1.zlib }
        }
    }
}
