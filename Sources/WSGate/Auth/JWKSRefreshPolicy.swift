/// When a JWKS URL's keys are fetched again and whether the keys held may still be used, as a value
/// (times in seconds on any monotonic clock the caller passes):
///
/// - the keys are used until `maxStale` after the last successful fetch, however the fetches since
///   went (the issuer may be down): past it, tokens are refused until a fetch succeeds;
/// - a fetch is due every `refreshInterval` after the last success (done in the background while the
///   keys are usable), at once when a token names a `kid` the keys lack or the keys are unusable;
/// - fetches are never closer than `minimumGap`, so a flood of unknown `kid`s or a dead issuer costs
///   at most one fetch per gap.
struct JWKSRefreshPolicy: Sendable, Equatable {
    var refreshInterval: Double
    var maxStale: Double
    var minimumGap: Double = 1
    private(set) var lastSuccess: Double?
    private(set) var lastAttempt: Double?

    init(refreshInterval: Double, maxStale: Double, minimumGap: Double = 1) {
        self.refreshInterval = refreshInterval
        self.maxStale = maxStale
        self.minimumGap = minimumGap
    }

    /// What to do for a token, given whether the keys held know its `kid`.
    enum Step: Equatable {
        /// Use the keys held.
        case use
        /// Use the keys held, and fetch in the background.
        case useAndRefresh
        /// Fetch, and wait for the answer before deciding.
        case fetchFirst
        /// Refuse: the keys are too old and no fetch may start yet.
        case unavailable
    }

    func isUsable(now: Double) -> Bool {
        guard let lastSuccess else { return false }
        return now - lastSuccess <= self.maxStale
    }

    func step(now: Double, knowsKid: Bool) -> Step {
        let mayFetch = self.lastAttempt.map { now - $0 >= self.minimumGap } ?? true
        guard self.isUsable(now: now) else { return mayFetch ? .fetchFirst : .unavailable }
        if !knowsKid { return mayFetch ? .fetchFirst : .use }
        let due = self.lastSuccess.map { now - $0 >= self.refreshInterval } ?? true
        return due && mayFetch ? .useAndRefresh : .use
    }

    mutating func fetchStarted(now: Double) {
        self.lastAttempt = now
    }

    mutating func fetchSucceeded(now: Double) {
        self.lastSuccess = now
    }
}
