import NIOCore
import NIOWebSocket

/// One client WebSocket and the upstream leg that serves it, living on one EventLoop.
///
/// The session moves frame events between the legs as they arrive, gates each leg's reads on the
/// other leg's writability (backpressure), relays the end of one leg to the other, and enforces the
/// session limits: idle timeout, message rate, and how long one side may keep the session paused.
/// The legs are ``SessionLeg``s: a ``ProxyLegHandler`` at the tail of a channel (a TCP connection or
/// an HTTP/2 stream), or the built-in ``EchoLeg``; the session treats them alike.
final class ProxySession {
    typealias Leg = ProxySessionStateMachine.Leg

    /// What this session is (route, addresses, start time).
    let identity: SessionIdentity
    private let eventLoop: any EventLoop
    private let limits: Limits
    private let backpressureLimitAction: BackpressureConfiguration.LimitAction
    private var state: ProxySessionStateMachine
    private var backpressure: BackpressureStateMachine
    private var rateLimiter: MessageRateLimiter?
    private var client: (any SessionLeg)?
    private var upstream: (any SessionLeg)?
    private var lastDataActivity: NIODeadline
    /// Whether data moved since `lastDataActivity` was last set: the clock is read once per read
    /// (at its end) rather than once per frame event.
    private var movedDataThisRead = false
    private var idleTask: Scheduled<Void>?
    /// Closes the session when its token expires (``AuthAdmission/closesAt``).
    private var expiryTask: Scheduled<Void>?
    /// The subject's slot in `auth.limits`, given back when the session ends.
    private let subjectLease: SubjectLease?
    /// Where the session is listed while it runs (its gateway's, on this loop).
    private let registry: SessionRegistry
    /// The route's counters on this loop (looked up once, when the session starts).
    let counters: RouteCounters
    /// Whether messages and bytes are counted (`admin.stats`).
    private let countsTraffic: Bool
    private let accessLog: AccessLog?
    /// What the session moved so far; folded into `counters` when it ends.
    private(set) var traffic = SessionTraffic()

    init(
        identity: SessionIdentity,
        eventLoop: any EventLoop,
        route: RouteConfiguration,
        environment: SessionEnvironment,
        closesAt: NIODeadline? = nil,
        subjectLease: SubjectLease? = nil
    ) {
        let now = NIODeadline.now()
        self.subjectLease = subjectLease
        self.registry = environment.sessions
        self.counters = environment.stats.route(route.name)
        self.countsTraffic = environment.countsTraffic
        self.accessLog = environment.accessLog
        self.identity = identity
        self.eventLoop = eventLoop
        self.limits = route.limits
        self.backpressureLimitAction = route.backpressure.onLimit
        self.state = ProxySessionStateMachine()
        self.backpressure = BackpressureStateMachine(
            maxStall: TimeAmount(route.backpressure.maxStall),
            maxBuffered: route.backpressure.maxBuffered
        )
        if route.limits.maxMessagesPerSecond > 0 {
            self.rateLimiter = MessageRateLimiter(limit: route.limits.maxMessagesPerSecond, now: now)
        }
        self.lastDataActivity = now
        if route.limits.idleTimeout > .zero {
            self.scheduleIdleCheck(at: now + TimeAmount(route.limits.idleTimeout))
        }
        if let closesAt {
            let session = NIOLoopBound(self, eventLoop: eventLoop)
            self.expiryTask = eventLoop.scheduleTask(deadline: closesAt) { session.value.tokenExpired() }
        }
    }

    func attach(_ handler: any SessionLeg, as leg: Leg) {
        switch leg {
        case .client: self.client = handler
        case .upstream: self.upstream = handler
        }
    }

    private func handler(_ leg: Leg) -> (any SessionLeg)? {
        leg == .client ? self.client : self.upstream
    }

    /// The leg that receives what `leg` reads.
    private func partner(of leg: Leg) -> (any SessionLeg)? {
        self.handler(leg.other)
    }

    // MARK: Events from the legs

    func received(_ event: WebSocketFrameEvent, from leg: Leg) {
        switch event {
        case .frameHead(let head):
            self.movedDataThisRead = true
            if leg == .client, head.opcode != .continuation, var limiter = self.rateLimiter {
                let allowed = limiter.allowMessage(at: .now())
                self.rateLimiter = limiter
                guard allowed else {
                    self.closeForLimit(
                        LimitName.maxMessagesPerSecond,
                        client: WebSocketCloseStatus(code: .policyViolation, reason: "message rate limit exceeded"),
                        upstream: WebSocketCloseStatus(code: .goingAway, reason: "client exceeded the message rate limit")
                    )
                    return
                }
            }
            if leg == .client, head.opcode != .continuation, let lease = self.subjectLease, lease.limitsMessages,
                !lease.allowMessage(at: .now())
            {
                self.closeForLimit(
                    LimitName.subjectMessagesPerSecond,
                    client: WebSocketCloseStatus(code: .policyViolation, reason: "message rate limit of the subject exceeded"),
                    upstream: WebSocketCloseStatus(code: .goingAway, reason: "client exceeded its subject's message rate limit")
                )
                return
            }
            if self.countsTraffic {
                self.count(head, direction: TrafficDirection(readBy: leg))
            }
            self.relay(event, from: leg)
        case .payload(let bytes, let endsFrame):
            // A long frame is traffic too: the idle clock runs from the last byte, not the last header.
            self.movedDataThisRead = true
            if self.countsTraffic {
                self.count(payload: bytes.readableBytes, endsFrame: endsFrame, direction: TrafficDirection(readBy: leg))
            }
            self.relay(event, from: leg)
        case .close(let status):
            self.perform(self.state.legEnded(leg, .close(status)))
        case .failed(let failure):
            if case .limitExceeded(let limit, _) = failure {
                self.counters.limitHit(Self.limitName(limit))
            }
            self.perform(self.state.legEnded(leg, .failed(failure)))
        }
    }

    /// The name a leg's limit is counted under: `max_message` counts frames over `max_frame` too.
    private static func limitName(_ limit: WebSocketLimit) -> String {
        switch limit {
        case .maxFrame, .maxMessage: LimitName.maxMessage
        }
    }

    /// Writes a data event to the partner of `leg` and holds the partner to `max_buffered` at once: the
    /// ceiling is a hard one, whatever `on_limit` says (that governs only `max_stall`). A partner can only
    /// pass the ceiling once it stopped being writable (`max_buffered` is at least `high_water`), so
    /// the queue is measured only then.
    private func relay(_ event: WebSocketFrameEvent, from leg: Leg) {
        guard let partner = self.partner(of: leg) else { return }
        partner.send(event)
        guard !partner.isWritable, self.state.ending == nil, self.backpressure.exceedsCeiling(partner.bufferedBytes) else {
            return
        }
        self.bufferLimitReached(leg.other)
    }

    /// Counts a data frame header: a new message, and a message complete if the frame has no payload.
    private func count(_ head: WebSocketDataFrameHead, direction: TrafficDirection) {
        if let completedSize = self.traffic.frameHead(head, direction: direction) {
            self.counters.messageCompleted(direction, size: completedSize)
        }
    }

    private func count(payload bytes: Int, endsFrame: Bool, direction: TrafficDirection) {
        if let completedSize = self.traffic.payload(bytes, endsFrame: endsFrame, direction: direction) {
            self.counters.messageCompleted(direction, size: completedSize)
        }
    }

    func readComplete(from leg: Leg) {
        self.stampDataActivity()
        self.partner(of: leg)?.flush()
    }

    private func stampDataActivity() {
        guard self.movedDataThisRead else { return }
        self.movedDataThisRead = false
        self.lastDataActivity = .now()
    }

    /// Whether `leg` may read: only while what it reads can be written to its partner. Once the session
    /// is ending, reads are free again so that each leg can receive its close handshake answer.
    func mayRead(_ leg: Leg) -> Bool {
        self.inboundGate(from: leg) != .full
    }

    /// Whether data `leg` produces can be handed on now (for a handler that makes more than it reads).
    func inboundGate(from leg: Leg) -> InboundGate {
        if self.state.ending != nil { return .closed }
        return (self.partner(of: leg)?.isWritable ?? true) ? .open : .full
    }

    func writabilityChanged(of leg: Leg, isWritable: Bool) {
        let buffered = self.handler(leg)?.bufferedBytes ?? 0
        let now = NIODeadline.now()
        let pausedSince = self.backpressure.pausedSince(leg)
        self.perform(self.backpressure.writabilityChanged(leg, isWritable: isWritable, bufferedBytes: buffered, now: now))
        let direction = TrafficDirection(writtenTo: leg)
        if pausedSince == nil, self.backpressure.isPaused(leg) {
            self.counters.backpressurePaused(direction)
        } else if let pausedSince, !self.backpressure.isPaused(leg) {
            self.counters.backpressureResumed(direction, afterNanoseconds: (now - pausedSince).nanoseconds)
        }
        guard isWritable else { return }
        self.handler(leg.other)?.resumeReading()
    }

    func inactive(_ leg: Leg) {
        // The endpoint reported how the leg ended before it went inactive; drop the reference so the
        // session and its handlers can be freed, and let the other leg read its close answer.
        switch leg {
        case .client: self.client = nil
        case .upstream: self.upstream = nil
        }
        if self.client == nil, self.upstream == nil {
            self.idleTask?.cancel()
            self.expiryTask?.cancel()
            self.subjectLease?.release()
            self.registry.unregister(self)
            self.ended()
        }
    }

    /// Counts the finished session in its route and writes its access log line.
    private func ended() {
        let close = self.state.ending.map { RouteStats.CloseKey(code: $0.closeCode, side: $0.side) }
        self.counters.sessionEnded(traffic: self.traffic, close: close)
        self.accessLog?.record(
            .session(
                AccessLogEntry.Session(
                    identity: self.identity,
                    duration: .now() - self.identity.started,
                    traffic: self.traffic,
                    close: close
                )
            )
        )
    }

    /// The session as `/stats/connections` lists it. Call on the session's loop.
    func connectionInfo(now: NIODeadline) -> ConnectionInfo {
        ConnectionInfo(
            identity: self.identity,
            age: now - self.identity.started,
            traffic: self.traffic,
            bufferedTowardClient: self.client?.bufferedBytes ?? 0,
            bufferedTowardUpstream: self.upstream?.bufferedBytes ?? 0,
            pausedTowardClient: self.backpressure.isPaused(.client),
            pausedTowardUpstream: self.backpressure.isPaused(.upstream)
        )
    }

    /// Bytes queued toward both legs now (what the memory budget counts).
    var queuedBytes: Int {
        (self.client?.bufferedBytes ?? 0) + (self.upstream?.bufferedBytes ?? 0)
    }

    /// Ends the session because the gateway is over `limits.max_memory` and it holds the most.
    func closeForMemoryBudget() {
        self.closeForLimit(
            LimitName.maxMemory,
            client: WebSocketCloseStatus(code: .tryAgainLater, reason: "gateway memory budget exceeded"),
            upstream: WebSocketCloseStatus(code: .goingAway, reason: "gateway memory budget exceeded")
        )
    }

    /// Ends the session from the gateway's side with `status` toward both legs (e.g. 1001 when the
    /// gateway shuts down); each leg then runs its close handshake.
    func close(_ status: WebSocketCloseStatus) {
        for action in self.state.gatewayClose(client: status, upstream: status) {
            self.perform(action)
        }
    }

    // MARK: Private

    private func perform(_ action: ProxySessionStateMachine.Action) {
        switch action {
        case .none:
            return
        case .close(let leg, let status):
            guard let handler = self.handler(leg) else { return }
            handler.send(.close(status))
            handler.flush()
            handler.resumeReading()
        }
    }

    private func perform(_ action: BackpressureStateMachine.Action) {
        switch action {
        case .none:
            return
        case .scheduleCheck(let leg, let deadline):
            let session = NIOLoopBound(self, eventLoop: self.eventLoop)
            self.eventLoop.scheduleTask(deadline: deadline) {
                let session = session.value
                let buffered = session.handler(leg)?.bufferedBytes ?? 0
                session.perform(session.backpressure.check(leg, bufferedBytes: buffered, now: .now()))
            }
        case .limitReached(let leg):
            guard self.backpressureLimitAction == .close else { return }
            self.bufferLimitReached(leg)
        }
    }

    /// `leg` holds up the session past a limit: close it, 1008 to a slow client, 1013 to the client of a
    /// slow upstream.
    private func bufferLimitReached(_ leg: Leg) {
        switch leg {
        case .client:
            self.closeForLimit(
                LimitName.backpressure,
                client: WebSocketCloseStatus(code: .policyViolation, reason: "client too slow (backpressure limit)"),
                upstream: WebSocketCloseStatus(code: .goingAway, reason: "client too slow")
            )
        case .upstream:
            self.closeForLimit(
                LimitName.backpressure,
                client: WebSocketCloseStatus(code: .tryAgainLater, reason: "upstream too slow (backpressure limit)"),
                upstream: WebSocketCloseStatus(code: .policyViolation, reason: "upstream too slow (backpressure limit)")
            )
        }
    }

    private func closeForLimit(_ limit: String, client: WebSocketCloseStatus, upstream: WebSocketCloseStatus) {
        self.counters.limitHit(limit)
        for action in self.state.gatewayClose(client: client, upstream: upstream) {
            self.perform(action)
        }
    }

    /// The client's token expired (plus `expiry_grace`): 1008 toward both legs.
    private func tokenExpired() {
        guard !self.state.isFinished else { return }
        self.closeForLimit(
            LimitName.tokenExpired,
            client: WebSocketCloseStatus(code: .policyViolation, reason: "token expired"),
            upstream: WebSocketCloseStatus(code: .policyViolation, reason: "client token expired")
        )
    }

    private func scheduleIdleCheck(at deadline: NIODeadline) {
        let session = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.idleTask = self.eventLoop.scheduleTask(deadline: deadline) {
            session.value.checkIdle()
        }
    }

    private func checkIdle() {
        guard self.limits.idleTimeout > .zero, !self.state.isFinished else { return }
        self.stampDataActivity()
        let expiry = self.lastDataActivity + TimeAmount(self.limits.idleTimeout)
        if expiry > .now() {
            self.scheduleIdleCheck(at: expiry)
            return
        }
        let idle = WebSocketCloseStatus(code: .goingAway, reason: "idle timeout")
        self.closeForLimit(LimitName.idleTimeout, client: idle, upstream: idle)
    }
}

@available(*, unavailable)
extension ProxySession: Sendable {}
