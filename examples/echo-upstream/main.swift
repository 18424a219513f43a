// echo-upstream: a small WebSocket echo server used as the upstream in wsgate's tests.
//
// It is built only on SwiftNIO's own HTTP/1 and WebSocket handlers
// (NIOWebSocketServerUpgrader, WebSocketFrameDecoder/Encoder), deliberately independent
// of wsgate's code, so the gateway is tested against an implementation it does not share.
//
// Usage: echo-upstream [--host 127.0.0.1] [--port 9001] [--h2]     (--port 0 picks a free port)
//   --h2: serve WebSocket over HTTP/2 (RFC 8441 extended CONNECT, h2c with prior knowledge) instead
//         of HTTP/1.1 upgrades, with the same paths (HTTP2WebSocketStreamHandler.swift).
//
// After binding it prints exactly one line, `listening on HOST:PORT`, and runs until killed.
// What it does on a connection depends on the request path: see Behaviour.swift.
// Files: main.swift (CLI, pipeline), Behaviour.swift (paths), WebSocketEchoHandler.swift (frames),
// HTTPFallbackHandler.swift (refused upgrades), CloseRecord.swift (/record-close, /last-close).

import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOWebSocket

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Largest frame payload accepted from a client.
let maxFrameSize = 256 * 1024 * 1024

func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { bytes in
        _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count)
    }
}

func usage() -> Never {
    printError("usage: echo-upstream [--host 127.0.0.1] [--port 9001] [--h2]")
    exit(2)
}

// MARK: - Command line

var host = "127.0.0.1"
var port = 9001
var http2 = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--host":
        guard let value = arguments.popFirst() else { usage() }
        host = value
    case "--port":
        guard let value = arguments.popFirst(), let number = Int(value), (0...65535).contains(number) else { usage() }
        port = number
    case "--h2":
        http2 = true
    case "-h", "--help":
        usage()
    default:
        printError("echo-upstream: unknown argument \(argument)")
        usage()
    }
}

// MARK: - Pipeline

/// Sets up one accepted connection: HTTP/1 with the WebSocket upgrader, plus a fallback
/// handler that answers requests that are not upgraded (e.g. `/reject/403`).
func configureConnection(_ channel: any Channel) throws {
    let upgrader = NIOWebSocketServerUpgrader(
        maxFrameSize: maxFrameSize,
        automaticErrorHandling: true,
        shouldUpgrade: { channel, head in
            if case .reject = Behaviour(uri: head.uri) {
                return channel.eventLoop.makeSucceededFuture(nil)  // HTTPFallbackHandler answers instead
            }
            var headers = HTTPHeaders()
            if let subprotocol = lastOfferedSubprotocol(head.headers) {
                headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol)
            }
            return channel.eventLoop.makeSucceededFuture(headers)
        },
        upgradePipelineHandler: { channel, head in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    WebSocketEchoHandler(request: head, behaviour: Behaviour(uri: head.uri))
                )
            }
        }
    )
    let sync = channel.pipeline.syncOperations
    try sync.configureHTTPServerPipeline(
        withServerUpgrade: (
            upgraders: [upgrader],
            completionHandler: { context in
                // The WebSocket handlers are appended after this one: it must leave first.
                context.pipeline.syncOperations.removeHandler(name: HTTPFallbackHandler.name, promise: nil)
            }
        )
    )
    try sync.addHandler(HTTPFallbackHandler(), name: HTTPFallbackHandler.name)
}

/// `--h2`: HTTP/2 with prior knowledge; each extended CONNECT stream gets its own handlers.
func configureHTTP2Connection(_ channel: any Channel) -> EventLoopFuture<Void> {
    channel.configureHTTP2Pipeline(mode: .server, initialLocalSettings: HTTP2WebSocketStreamHandler.settings) { stream in
        stream.eventLoop.makeCompletedFuture {
            try stream.pipeline.syncOperations.addHandler(HTTP2WebSocketStreamHandler())
        }
    }.map { _ in }
}

// MARK: - Run

let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .serverChannelOption(.backlog, value: 256)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { [http2] channel in
        if http2 {
            return configureHTTP2Connection(channel)
        }
        return channel.eventLoop.makeCompletedFuture {
            try configureConnection(channel)
        }
    }

let serverChannel: any Channel
do {
    serverChannel = try bootstrap.bind(host: host, port: port).wait()
} catch {
    printError("echo-upstream: cannot listen on \(host):\(port): \(error)")
    exit(1)
}
let boundPort = serverChannel.localAddress?.port ?? port
print("listening on \(host):\(boundPort)")
fflush(nil)  // flush stdout (nil: all streams) so a test reading the pipe sees the line now

try serverChannel.closeFuture.wait()
