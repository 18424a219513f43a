import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import WSGate

/// Feeds arbitrary bytes, as a client's first bytes on a listener, through the front of the gateway's
/// pipeline (`RequestHeadLimitHandler` and NIO's `HTTPRequestDecoder`, as `Gateway` installs them), then
/// every request head through what `ClientHandshakeHandler.accept` and `upgrade` do with it: route
/// matching on Host, path and headers, RFC 6455 validation, the origin check, the accept value and the
/// permessage-deflate answer.
///
/// Input: byte 0 is where the rest is split into two reads (0 or past the end: one read).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    guard let split = input.readInteger(as: UInt8.self) else { return 0 }
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(RequestHeadLimitHandler(maxHeaderBytes: 4096))
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        )
    } catch {
        preconditionFailure("cannot build the pipeline: \(error)")
    }
    let first = input.readSlice(length: min(Int(split), input.readableBytes))!
    for read in [first, input] where read.readableBytes > 0 {
        do {
            try channel.writeInbound(read)
        } catch {
            return 0  // The decoder refused the bytes: the gateway answers 400 and closes.
        }
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let head) = part {
                acceptHandshake(head)
            }
        }
    }
    return 0
}

/// Routes over every kind of condition: exact and wildcard hosts, exact and prefix paths, headers,
/// rewrites, origins and a compression override.
let routeTable: RouteTable = {
    let yaml = """
        listeners: [{address: 127.0.0.1:8080}]
        upstreams: {app: {protocol: echo}}
        routes:
          - {match: {host: chat.example.com, path_prefix: /ws}, upstream: app, rewrite_prefix: /}
          - {match: {host: "*.example.com", path: /exact}, upstream: app, origins: [https://app.example.com]}
          - {match: {path_prefix: /app/, headers: {x-debug: "1"}}, upstream: app, rewrite_prefix: /api/}
          - match: {path_prefix: /small}
            upstream: app
            compression: {server_max_window_bits: 10, client_max_window_bits: 9, context_takeover: false}
          - {match: {host: "[::1]"}, upstream: app}
        """
    do {
        return RouteTable(configuration: try GatewayConfiguration.parse(yaml: yaml, file: "fuzz.yaml"))
    } catch {
        preconditionFailure("the fuzzer's own configuration is invalid: \(error)")
    }
}()

/// What the handshake handler computes from a request head before it dials the upstream and answers 101.
func acceptHandshake(_ head: HTTPRequestHead) {
    guard
        let selection = routeTable.match(
            host: head.headers.first(name: "Host"),
            path: head.uri,
            headers: head.headers.map { (name: $0.name, value: $0.value) }
        )
    else { return }
    guard let request = try? ClientHandshakeRequest(validating: head) else { return }
    if let origins = selection.route.origins, let origin = request.origin?.lowercased() {
        _ = origins.contains(origin)
    }
    _ = request.path
    _ = WebSocketAccept.value(forKey: request.key)
    _ = PerMessageDeflateNegotiation(configuration: selection.route.compression)
        .negotiate(request.head.headers["Sec-WebSocket-Extensions"])
}
