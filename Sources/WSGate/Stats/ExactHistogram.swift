/// A histogram of whole-number observations (bytes, nanoseconds) kept as plain counts: which bucket
/// each observation fell in, and the sum of the observations of each bucket.
///
/// Observing is a short linear scan and two additions, done on the EventLoop that owns the value (no
/// lock, no atomic). Readers copy the value on that loop and merge the copies. Keeping the sum per
/// bucket (not only the total) is what lets ``MetricsExporter`` hand the figures to swift-prometheus
/// exactly: its histograms only take single observations, so new observations of a bucket are replayed
/// as values inside that bucket whose sum is the bucket's exact new sum (see ``replayValues(count:sum:)``).
struct ExactHistogram: Sendable, Equatable {
    /// Inclusive upper bounds, ascending; a last, implicit bucket takes everything above.
    let bounds: [Int]
    /// Observations per bucket (not cumulative); `bounds.count + 1` entries.
    private(set) var counts: [Int]
    /// Sum of the observations per bucket; `bounds.count + 1` entries.
    private(set) var sums: [Int]

    init(bounds: [Int]) {
        self.bounds = bounds
        self.counts = Array(repeating: 0, count: bounds.count + 1)
        self.sums = Array(repeating: 0, count: bounds.count + 1)
    }

    var count: Int { self.counts.reduce(0, +) }
    var sum: Int { self.sums.reduce(0, +) }

    mutating func observe(_ value: Int) {
        var index = 0
        while index < self.bounds.count, value > self.bounds[index] {
            index += 1
        }
        self.counts[index] += 1
        self.sums[index] += value
    }

    mutating func merge(_ other: ExactHistogram) {
        precondition(self.bounds == other.bounds, "merging histograms with different buckets")
        for index in self.counts.indices {
            self.counts[index] += other.counts[index]
            self.sums[index] += other.sums[index]
        }
    }

    /// `count` whole numbers summing to exactly `sum`, each within the bucket that `count` observations
    /// summing to `sum` came from: `sum / count` rounded down or up. Whole observations in `(lo, hi]`
    /// have a mean in `[lo + 1, hi]`, so both roundings stay in the bucket.
    static func replayValues(count: Int, sum: Int) -> [(value: Int, times: Int)] {
        guard count > 0 else { return [] }
        let low = sum / count
        let high = sum - low * count
        return [(low, count - high), (low + 1, high)].filter { $0.times > 0 }
    }

    /// Message sizes in bytes: 64 B to 16 MiB by powers of 4.
    static let messageSizeBounds = [64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216]
    /// Upstream connect times in nanoseconds: 0.5 ms to 10 s.
    static let connectTimeBounds = [
        500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000,
        500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000,
    ]
}
