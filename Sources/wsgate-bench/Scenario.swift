import ArgumentParser

/// The benchmark scenarios (letters as in issue 6).
enum Scenario: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// (a) one connection, 32-byte messages, one in flight: latency.
    case pingpong
    /// (b) 64 connections × 32-byte echo: messages per second and tail latency.
    case echo32
    /// (c) 64 connections × 16 KiB echo: bandwidth.
    case echo16k
    /// (d) many idle connections: server memory per connection.
    case idle
    /// (e) (b) with permessage-deflate offered; against wsgate, on a route keeping a compression
    /// context per connection (`context_takeover: true`).
    case echo32Deflate = "echo32-deflate"
    /// (e) (b) with permessage-deflate on a route with shared per-loop zlib streams
    /// (`context_takeover: false`), path /shared + the echo path.
    case echo32DeflateShared = "echo32-deflate-shared"
    /// (e) (d) with permessage-deflate offered (dedicated-stream route).
    case idleDeflate = "idle-deflate"
    /// (e) (d) with permessage-deflate offered, on the shared-stream route.
    case idleDeflateShared = "idle-deflate-shared"
    /// (f) head-of-line: 20 echoing clients, with and without one client that stopped reading
    /// while the upstream floods it.
    case hol

    /// The letter for each scenario, accepted on the command line too.
    var letter: String {
        switch self {
        case .pingpong: return "a"
        case .echo32: return "b"
        case .echo16k: return "c"
        case .idle: return "d"
        case .echo32Deflate: return "e-b"
        case .echo32DeflateShared: return "e-b-shared"
        case .idleDeflate: return "e-d"
        case .idleDeflateShared: return "e-d-shared"
        case .hol: return "f"
        }
    }

    /// Whether the scenario offers permessage-deflate.
    var offersDeflate: Bool {
        switch self {
        case .echo32Deflate, .echo32DeflateShared, .idleDeflate, .idleDeflateShared: return true
        case .pingpong, .echo32, .echo16k, .idle, .hol: return false
        }
    }

    /// Whether the scenario goes to the shared-stream compression route (/shared/...).
    var usesSharedCompressionRoute: Bool {
        self == .echo32DeflateShared || self == .idleDeflateShared
    }

    init?(argument: String) {
        guard let scenario = Self.allCases.first(where: { $0.rawValue == argument || $0.letter == argument }) else {
            return nil
        }
        self = scenario
    }

    static var allValueStrings: [String] {
        allCases.map { "\($0.rawValue) (\($0.letter))" }
    }
}

/// A duration on the command line: `5s`, `500ms`, `2m`, or a bare number of seconds.
struct BenchDuration: ExpressibleByArgument, Sendable, CustomStringConvertible {
    let seconds: Double

    init(seconds: Double) {
        self.seconds = seconds
    }

    init?(argument: String) {
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where argument.hasSuffix(suffix) {
            guard let value = Double(argument.dropLast(suffix.count)), value >= 0 else { return nil }
            self.seconds = value * scale
            return
        }
        guard let value = Double(argument), value >= 0 else { return nil }
        self.seconds = value
    }

    var duration: Duration { .milliseconds(Int64(self.seconds * 1000)) }
    var description: String { "\(self.seconds)s" }
}

/// `ws://HOST:PORT[/PATH]`; the scenario chooses the path unless the URL has one.
struct WebSocketURL: ExpressibleByArgument, Sendable {
    let host: String
    let port: Int
    let path: String?
    /// wss://: TLS 1.3 on the connection.
    let tls: Bool

    init?(argument: String) {
        let scheme = argument.hasPrefix("wss://") ? "wss://" : "ws://"
        guard argument.hasPrefix(scheme) else { return nil }
        self.tls = scheme == "wss://"
        let rest = argument.dropFirst(scheme.count)
        let authority = rest.prefix(while: { $0 != "/" })
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(authority[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
        self.path = path.isEmpty || path == "/" ? nil : String(path)
    }

    /// The Host header value.
    var authority: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }
}
