import NIOCore
import NIOPosix

/// Runs one scenario: opens its connections, measures, closes, and turns the counts into
/// `ScenarioResult`s.
struct ScenarioRunner: Sendable {
    let options: RunCommand
    let group: MultiThreadedEventLoopGroup
    let probe: ProcessProbe?

    /// `--http2`: the HTTP/2 connections to open at least.
    private var http2Connections: Int? {
        self.options.http2 ? self.options.http2Connections : nil
    }

    /// Path of the echo and idle scenarios.
    private func path(_ scenario: Scenario) -> String {
        let path = self.options.url.path ?? "/echo"
        return scenario.usesSharedCompressionRoute ? "/shared" + path : path
    }

    func run(_ scenario: Scenario) async throws -> [ScenarioResult] {
        switch scenario {
        case .pingpong:
            return [try await self.echo(scenario, connections: 1, payloadSize: 32)]
        case .echo32:
            return [try await self.echo(scenario, connections: self.options.echoConnections, payloadSize: 32)]
        case .echo16k:
            return [try await self.echo(scenario, connections: self.options.echoConnections, payloadSize: 16 * 1024)]
        case .echo32Deflate, .echo32DeflateShared:
            return [try await self.echo(scenario, connections: self.options.echoConnections, payloadSize: 32)]
        case .idle, .idleDeflate, .idleDeflateShared:
            return [try await self.idle(scenario)]
        case .hol:
            return [
                try await self.echo(scenario, connections: self.options.holActive, payloadSize: 32, stalled: 0),
                try await self.echo(scenario, connections: self.options.holActive, payloadSize: 32, stalled: 1),
            ]
        }
    }

    /// A generator for a run of `streams` WebSockets (sizes its HTTP/2 connections with `--http2`).
    private func makeGenerator(streams: Int) async throws -> LoadGenerator {
        try await LoadGenerator(
            url: self.options.url,
            group: self.group,
            connectConcurrency: self.options.connectConcurrency,
            handshakeTimeout: .seconds(10),
            http2Connections: self.http2Connections ?? 0,
            streams: streams
        )
    }

    /// Echo scenarios: `connections` clients each keep `window` messages of `payloadSize` bytes in
    /// flight. With `stalled` (hol), that many clients that never read are opened first on
    /// /send/N, so the upstream floods them for the whole run.
    private func echo(
        _ scenario: Scenario,
        connections: Int,
        payloadSize: Int,
        stalled: Int? = nil
    ) async throws -> ScenarioResult {
        let generator = try await self.makeGenerator(streams: connections + (stalled ?? 0))
        let rssBefore = try self.probe?.sample().residentKiB
        var failures = 0
        var failureSamples: [String] = []
        var channels: [any Channel] = []
        if let stalled, stalled > 0 {
            let opened = await generator.open(count: stalled, path: "/send/\(self.options.holFlood)", role: .stalled)
            channels += opened.channels
            failures += opened.failures
            failureSamples += opened.failureSamples
        }
        let maskKey = UInt32.random(in: 1...UInt32.max)
        let message = ClientFrames.binaryMessage(size: payloadSize, maskKey: maskKey, allocator: ByteBufferAllocator())
        let compressed =
            scenario.offersDeflate
            ? ClientFrames.compressedBinaryMessage(size: payloadSize, maskKey: maskKey, allocator: ByteBufferAllocator())
            : nil
        let opened = await generator.open(
            count: connections,
            path: self.path(scenario),
            role: .echo(message: message, compressed: compressed, payloadSize: payloadSize, window: self.options.window),
            offerDeflate: scenario.offersDeflate
        )
        channels += opened.channels
        failures += opened.failures
        failureSamples += opened.failureSamples

        try await generator.startWarmUp()
        try await Task.sleep(for: self.options.warmup.duration)
        let cpuStart = try self.probe?.sample().cpuSeconds
        let start = NIODeadline.now()
        try await generator.startMeasuring()
        try await Task.sleep(for: self.options.duration.duration)
        let counts = try await generator.stop()
        let seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        let end = try self.probe?.sample()
        try await generator.closeAll(channels)

        var result = ScenarioResult(
            scenario: scenario.rawValue,
            target: self.options.target,
            connections: connections,
            errors: failures + counts.errors
        )
        result.payloadBytes = payloadSize
        result.http2Connections = self.options.http2 ? generator.http2Connections : nil
        result.window = self.options.window
        result.stalled = stalled
        result.stalledClosed = stalled.map { _ in counts.stalledClosed }
        result.deflateConnections = scenario.offersDeflate ? counts.deflateConnections : nil
        result.durationSeconds = seconds.rounded(places: 3)
        result.messages = counts.messages
        result.messagesPerSecond = (Double(counts.messages) / seconds).rounded(places: 1)
        result.megabytesPerSecond = (Double(counts.payloadBytes) / seconds / 1e6).rounded(places: 2)
        let latencies = counts.latencies.sorted()
        result.p50Microseconds = Self.percentile(latencies, 0.50)
        result.p99Microseconds = Self.percentile(latencies, 0.99)
        result.errorSamples = Self.samples(failureSamples + counts.errorSamples)
        if let cpuStart, let end {
            let cpu = end.cpuSeconds - cpuStart
            result.serverCPUSeconds = cpu.rounded(places: 2)
            if counts.messages > 0 {
                result.cpuSecondsPerMillionMessages = (cpu / Double(counts.messages) * 1e6).rounded(places: 2)
            }
            result.rssBeforeKiB = rssBefore
            result.rssAfterKiB = end.residentKiB
        }
        return result
    }

    /// Idle: opens `idleConnections` that send nothing, then reads the server's memory. With
    /// `--http2` the generator's connections are open before the first sample: the growth is the
    /// streams' alone, divided by the streams (spread over as many connections as the server's
    /// MAX_CONCURRENT_STREAMS needs).
    private func idle(_ scenario: Scenario) async throws -> ScenarioResult {
        let generator = try await self.makeGenerator(streams: self.options.idleConnections)
        let before = try self.probe?.sample()
        let opened = await generator.open(
            count: self.options.idleConnections,
            path: self.path(scenario),
            role: .idle,
            offerDeflate: scenario.offersDeflate
        )
        // Let the server settle (lazy allocations, deferred frees) before reading its memory.
        try await Task.sleep(for: self.options.warmup.duration)
        let after = try self.probe?.sample()
        let counts = try await generator.counts()
        try await generator.closeAll(opened.channels, timeout: .seconds(30))

        var result = ScenarioResult(
            scenario: scenario.rawValue,
            target: self.options.target,
            connections: opened.channels.count,
            errors: opened.failures + counts.errors
        )
        result.deflateConnections = scenario.offersDeflate ? counts.deflateConnections : nil
        result.http2Connections = self.options.http2 ? generator.http2Connections : nil
        result.connectsPerSecond = (Double(opened.channels.count) / max(opened.seconds, 1e-9)).rounded(places: 0)
        result.errorSamples = Self.samples(opened.failureSamples + counts.errorSamples)
        if let before, let after {
            result.rssBeforeKiB = before.residentKiB
            result.rssAfterKiB = after.residentKiB
            if !opened.channels.isEmpty {
                result.rssPerConnectionKiB = (Double(after.residentKiB - before.residentKiB) / Double(opened.channels.count))
                    .rounded(places: 2)
            }
        }
        return result
    }

    /// The `fraction` percentile of sorted nanosecond samples, in microseconds.
    private static func percentile(_ sorted: [UInt64], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let index = min(sorted.count - 1, Int(Double(sorted.count) * fraction))
        return (Double(sorted[index]) / 1000).rounded(places: 1)
    }

    private static func samples(_ descriptions: [String]) -> [String]? {
        descriptions.isEmpty ? nil : Array(descriptions.prefix(3))
    }
}
