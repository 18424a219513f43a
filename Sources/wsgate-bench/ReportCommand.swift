import ArgumentParser
import Foundation

/// `wsgate-bench report FILE...`: reads the JSON lines of `run` (several targets) and prints one
/// comparison table with the ratios of a subject (wsgate) to its peers (nginx, direct).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Compare targets from the JSON lines of earlier runs."
    )

    @Argument(help: "Files of JSON lines written by `wsgate-bench run`.")
    var files: [String]

    @Option(help: "The target whose ratios are shown.")
    var subject = "wsgate"

    @Option(name: .customLong("peer"), help: "A target to compare the subject with, repeatable (default: nginx, direct).")
    var peers: [String] = []

    /// One row of the table: a figure of one scenario case.
    private struct Metric: Sendable {
        let caseName: String
        let label: String
        let value: @Sendable (ScenarioResult) -> Double?
    }

    private static let metrics: [Metric] = [
        Metric(caseName: "pingpong", label: "(a) 1 conn ping-pong 32 B: p50 µs") { $0.p50Microseconds },
        Metric(caseName: "pingpong", label: "(a) 1 conn ping-pong 32 B: p99 µs") { $0.p99Microseconds },
        Metric(caseName: "pingpong", label: "(a) server CPU s / M msgs") { $0.cpuSecondsPerMillionMessages },
        Metric(caseName: "echo32", label: "(b) 64 × 32 B echo: msgs/s") { $0.messagesPerSecond },
        Metric(caseName: "echo32", label: "(b) 64 × 32 B echo: p99 µs") { $0.p99Microseconds },
        Metric(caseName: "echo32", label: "(b) server CPU s / M msgs") { $0.cpuSecondsPerMillionMessages },
        Metric(caseName: "echo16k", label: "(c) 64 × 16 KiB echo: MB/s") { $0.megabytesPerSecond },
        Metric(caseName: "echo16k", label: "(c) 64 × 16 KiB echo: p99 µs") { $0.p99Microseconds },
        Metric(caseName: "echo16k", label: "(c) server CPU s / M msgs") { $0.cpuSecondsPerMillionMessages },
        Metric(caseName: "idle", label: "(d) idle: server KiB / WebSocket") { $0.rssPerConnectionKiB },
        Metric(caseName: "idle", label: "(d) idle: connects/s") { $0.connectsPerSecond },
        Metric(caseName: "echo32-deflate", label: "(e) (b) deflate, own zlib streams: msgs/s") { $0.messagesPerSecond },
        Metric(caseName: "echo32-deflate", label: "(e) (b) deflate, own zlib streams: CPU s / M msgs") {
            $0.cpuSecondsPerMillionMessages
        },
        Metric(caseName: "echo32-deflate-shared", label: "(e) (b) deflate, shared streams: msgs/s") { $0.messagesPerSecond },
        Metric(caseName: "echo32-deflate-shared", label: "(e) (b) deflate, shared streams: CPU s / M msgs") {
            $0.cpuSecondsPerMillionMessages
        },
        Metric(caseName: "idle-deflate", label: "(e) (d) idle deflate, own streams: KiB / conn") { $0.rssPerConnectionKiB },
        Metric(caseName: "idle-deflate-shared", label: "(e) (d) idle deflate, shared streams: KiB / conn") {
            $0.rssPerConnectionKiB
        },
        Metric(caseName: "hol stalled=0", label: "(f) 20 active, none stalled: msgs/s") { $0.messagesPerSecond },
        Metric(caseName: "hol stalled=1", label: "(f) 20 active + 1 stalled: msgs/s") { $0.messagesPerSecond },
        Metric(caseName: "hol stalled=1", label: "(f) 20 active + 1 stalled: p99 µs") { $0.p99Microseconds },
        Metric(caseName: "hol stalled=1", label: "(f) server RSS growth, 1 stalled: MiB") { result in
            guard let before = result.rssBeforeKiB, let after = result.rssAfterKiB else { return nil }
            return Double(after - before) / 1024
        },
    ]

    func run() throws {
        var results: [ScenarioResult] = []
        let decoder = JSONDecoder()
        for file in self.files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for line in text.split(separator: "\n") where line.hasPrefix("{") {
                results.append(try decoder.decode(ScenarioResult.self, from: Data(line.utf8)))
            }
        }
        print(Self.table(results, subject: self.subject, peers: self.peers.isEmpty ? ["nginx", "direct"] : self.peers))
    }

    /// Columns: every target in order of first appearance, then subject/peer ratios. A figure
    /// from several runs is their median; a run with errors is marked `!`.
    static func table(_ results: [ScenarioResult], subject: String, peers: [String]) -> String {
        var targets: [String] = []
        for result in results where !targets.contains(result.target) {
            targets.append(result.target)
        }
        let comparedPeers = peers.filter { targets.contains($0) && $0 != subject }
        let header = ["figure"] + targets + comparedPeers.map { "\(subject)/\($0)" }
        var rows: [[String]] = []
        for metric in self.metrics {
            var values: [String: Double] = [:]
            var flagged: Set<String> = []
            for target in targets {
                let runs = results.filter { $0.target == target && $0.caseName == metric.caseName }
                let figures = runs.compactMap(metric.value).sorted()
                if !figures.isEmpty {
                    let middle = figures.count / 2
                    values[target] = figures.count % 2 == 1 ? figures[middle] : (figures[middle - 1] + figures[middle]) / 2
                }
                if runs.contains(where: { $0.errors > 0 }) {
                    flagged.insert(target)
                }
            }
            guard !values.isEmpty else { continue }
            var row = [metric.label]
            row += targets.map { target in formatFigure(values[target]) + (flagged.contains(target) ? " !" : "") }
            row += comparedPeers.map { peer in
                guard let mine = values[subject], let theirs = values[peer], theirs != 0 else { return "–" }
                return String(format: "%.2f", mine / theirs)
            }
            rows.append(row)
        }
        return markdownTable(header: header, rows: rows)
    }
}
