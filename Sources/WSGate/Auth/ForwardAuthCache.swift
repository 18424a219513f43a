/// Forward-auth answers kept per credentials (the chosen request headers' values) for `ttl` seconds,
/// at most `capacity` of them: when full, expired answers go first, then the oldest.
struct ForwardAuthCache<Answer: Sendable>: Sendable {
    private struct Entry: Sendable {
        var answer: Answer
        var expires: Double
    }

    let ttl: Double
    let capacity: Int
    private var entries: [String: Entry] = [:]

    init(ttl: Double, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    var count: Int { self.entries.count }

    func answer(for key: String, now: Double) -> Answer? {
        guard let entry = self.entries[key], entry.expires > now else { return nil }
        return entry.answer
    }

    mutating func store(_ answer: Answer, for key: String, now: Double) {
        guard self.ttl > 0 else { return }
        if self.entries.count >= self.capacity, self.entries[key] == nil {
            self.entries = self.entries.filter { $0.value.expires > now }
            if self.entries.count >= self.capacity,
                let oldest = self.entries.min(by: { $0.value.expires < $1.value.expires })?.key
            {
                self.entries[oldest] = nil
            }
        }
        self.entries[key] = Entry(answer: answer, expires: now + self.ttl)
    }
}
