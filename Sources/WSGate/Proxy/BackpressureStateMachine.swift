import NIOCore

/// Watches the legs of one session that refuse data (not writable) and decides when one has
/// overstayed: paused for `maxStall`, or with more than `maxBuffered` bytes piled up toward it.
///
/// Pausing itself is the channels' job (write-buffer water marks drive writability, and the session
/// withholds reads from the other leg); this only measures how long and how much.
struct BackpressureStateMachine {
    typealias Leg = ProxySessionStateMachine.Leg

    enum Action: Equatable {
        case none
        /// Look again at `leg` at this time.
        case scheduleCheck(Leg, NIODeadline)
        /// `leg` is too slow: act per `on_limit`. Reported once per pause.
        case limitReached(Leg)
    }

    private struct Pause {
        var since: NIODeadline
        var reported = false
    }

    private let maxStall: TimeAmount
    private let maxBuffered: Int
    private var client: Pause?
    private var upstream: Pause?

    init(maxStall: TimeAmount, maxBuffered: Int) {
        self.maxStall = maxStall
        self.maxBuffered = maxBuffered
    }

    /// Whether `leg` is currently refusing data.
    func isPaused(_ leg: Leg) -> Bool {
        self.pause(leg) != nil
    }

    /// Since when `leg` has been refusing data, if it is.
    func pausedSince(_ leg: Leg) -> NIODeadline? {
        self.pause(leg)?.since
    }

    mutating func writabilityChanged(_ leg: Leg, isWritable: Bool, bufferedBytes: Int, now: NIODeadline) -> Action {
        guard !isWritable else {
            self.setPause(leg, nil)
            return .none
        }
        if self.pause(leg) == nil {
            self.setPause(leg, Pause(since: now))
        }
        return self.check(leg, bufferedBytes: bufferedBytes, now: now)
    }

    /// Whether `bufferedBytes` queued toward a leg pass `max_buffered`, the hard ceiling.
    func exceedsCeiling(_ bufferedBytes: Int) -> Bool {
        bufferedBytes > self.maxBuffered
    }

    mutating func check(_ leg: Leg, bufferedBytes: Int, now: NIODeadline) -> Action {
        guard var pause = self.pause(leg), !pause.reported else { return .none }
        let deadline = pause.since + self.maxStall
        guard self.exceedsCeiling(bufferedBytes) || now >= deadline else {
            return .scheduleCheck(leg, deadline)
        }
        pause.reported = true
        self.setPause(leg, pause)
        return .limitReached(leg)
    }

    private func pause(_ leg: Leg) -> Pause? {
        leg == .client ? self.client : self.upstream
    }

    private mutating func setPause(_ leg: Leg, _ pause: Pause?) {
        if leg == .client { self.client = pause } else { self.upstream = pause }
    }
}
