import NIOCore

/// The counters and the connections of one event loop of the load generator. Loop-confined
/// (reached from elsewhere through `NIOLoopBound`), so counting a message is a plain increment.
final class LoopRecorder {
    /// Where the run is; connections look at it on every message.
    enum Phase {
        /// Connections are being opened; nothing is sent.
        case connecting
        /// Messages flow but are not counted (warm-up).
        case warmingUp
        /// Messages flow and are counted.
        case measuring
        /// No new message is sent; connections are being closed.
        case stopped
    }

    /// What one loop counted while measuring.
    struct Counts: Sendable {
        var messages = 0
        var payloadBytes = 0
        var errors = 0
        /// Round-trip times in nanoseconds, one per counted message.
        var latencies: [UInt64] = []
        /// Stalled connections that the server closed.
        var stalledClosed = 0
        /// Connections whose server accepted permessage-deflate.
        var deflateConnections = 0
        /// The first few error descriptions, for the report.
        var errorSamples: [String] = []

        mutating func merge(_ other: Counts) {
            self.messages += other.messages
            self.payloadBytes += other.payloadBytes
            self.errors += other.errors
            self.latencies += other.latencies
            self.stalledClosed += other.stalledClosed
            self.deflateConnections += other.deflateConnections
            self.errorSamples += other.errorSamples.prefix(max(0, 3 - self.errorSamples.count))
        }
    }

    private(set) var phase = Phase.connecting
    private(set) var counts = Counts()
    private var connections: [BenchConnectionHandler] = []

    func register(_ connection: BenchConnectionHandler, deflateNegotiated: Bool) {
        self.connections.append(connection)
        if deflateNegotiated {
            self.counts.deflateConnections += 1
        }
    }

    func recordMessage(payloadBytes: Int, latency: UInt64) {
        guard self.phase == .measuring else { return }
        self.counts.messages += 1
        self.counts.payloadBytes += payloadBytes
        self.counts.latencies.append(latency)
    }

    /// An error counts whatever the phase: a run with errors is not a clean figure.
    func recordError(_ description: String) {
        self.counts.errors += 1
        if self.counts.errorSamples.count < 3 {
            self.counts.errorSamples.append(description)
        }
    }

    func recordStalledClosed() {
        self.counts.stalledClosed += 1
    }

    /// Starts the flow of messages on every registered connection (not yet counted).
    func startWarmUp() {
        self.phase = .warmingUp
        for connection in self.connections {
            connection.start()
        }
    }

    /// Starts counting messages (errors are counted from the start).
    func startMeasuring() {
        self.counts.messages = 0
        self.counts.payloadBytes = 0
        self.counts.latencies.removeAll(keepingCapacity: true)
        self.phase = .measuring
    }

    /// Stops counting and sending, and returns what was counted.
    func stop() -> Counts {
        self.phase = .stopped
        return self.counts
    }

    /// Sends a close frame on every connection and closes it; forgets them.
    func closeAll() {
        self.phase = .stopped
        let connections = self.connections
        self.connections = []
        for connection in connections {
            connection.finish()
        }
    }
}
