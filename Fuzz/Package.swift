// swift-tools-version:5.4
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's `main` to `<Target>_main`
// and links `main` to it, which leaves the libFuzzer executables (whose `main` is libFuzzer's) unlinkable.
import PackageDescription

/// One libFuzzer executable per input surface. They are only meant to be built by scripts/fuzz.sh, with
/// `-sanitize=fuzzer,address -parse-as-library` in a debug build (so `@testable import WSGate` links).
func fuzzer(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "WSGate", package: "wsgate")] + dependencies
    )
}

let package = Package(
    name: "wsgate-fuzz",
    dependencies: [
        // Named, because SwiftPM would name a path dependency after its directory (a clone's or worktree's).
        .package(name: "wsgate", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        fuzzer("FrameParserFuzzer", [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),
        fuzzer("ClientHandshakeFuzzer", [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        fuzzer("DeflateNegotiationFuzzer"),
        fuzzer("InflaterFuzzer", [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
        ]),
        fuzzer("ConfigurationFuzzer"),
        fuzzer("AdminQueryFuzzer"),
    ]
)
