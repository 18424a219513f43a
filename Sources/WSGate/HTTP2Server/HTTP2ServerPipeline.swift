import NIOCore
import NIOHTTP2

/// A client connection that negotiated `h2`, from its TLS handler on:
///
///     tls → HTTP2FlushCoalescer → NIOHTTP2Handler (server, inline multiplexer) → HTTP2ServerConnectionHandler
///     each stream: HTTP2StreamRouter → what its first HEADERS ask for (``HTTP2StreamKind``)
///
/// The settings announce `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` in the first SETTINGS (RFC 8441
/// section 3: browsers open WebSockets over the connection only then) and the listener's limits.
/// NIOHTTP2's flood protections stay on at their defaults: rapid reset (200 RST_STREAM per 30 s),
/// CONTINUATION floods (5 in a row), control-frame floods, empty DATA floods, and its glitch count.
enum HTTP2ServerPipeline {
    /// The SETTINGS of the connection's preface.
    static func settings(_ configuration: ListenerHTTP2Configuration) -> HTTP2Settings {
        [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: configuration.maxConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: configuration.initialWindowSize),
            HTTP2Setting(parameter: .maxHeaderListSize, value: configuration.maxHeaderListSize),
            HTTP2Setting(parameter: .enableConnectProtocol, value: 1),
        ]
    }

    /// Adds the HTTP/2 handlers right behind `tls`, `channel`'s TLS handler (the flush coalescer,
    /// outbound only, between them), so the bytes it
    /// decrypts next reach them and never a handler that is leaving: NIO's HTTP/1 decoder
    /// (a `ByteToMessageHandler`) leaves only on the next loop tick, and the client's preface may
    /// come in the same read as its TLS Finished.
    ///
    /// - Parameters:
    ///   - tls: the connection's TLS handler.
    ///   - idleTimeout: how long the connection may stay without streams.
    ///   - configureStream: adds a stream's handlers for its kind (behind its router).
    static func configure(
        _ channel: any Channel,
        after tls: any ChannelHandler,
        configuration: ListenerHTTP2Configuration,
        idleTimeout: TimeAmount,
        counters: ClientProtocolCounters,
        registry: HTTP2ConnectionRegistry,
        configureStream: @escaping HTTP2StreamRouter.Configure
    ) throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = Self.settings(configuration)
        // The connection window is replenished as DATA arrives, whoever reads it: only the streams'
        // windows wait for their readers, so one stalled stream never stops its neighbours.
        connection.targetWindowSize = max(configuration.initialWindowSize, 1 << 20)
        var streams = NIOHTTP2Handler.StreamConfiguration()
        streams.targetWindowSize = configuration.initialWindowSize
        // A stream is unwritable once this much waits for the client's window: the session then
        // stops reading the upstream for this stream only.
        streams.outboundBufferSizeHighWatermark = configuration.initialWindowSize
        streams.outboundBufferSizeLowWatermark = configuration.initialWindowSize / 2
        // Stream channels live on their connection's loop.
        let configureOnLoop = NIOLoopBound(configureStream, eventLoop: channel.eventLoop)
        let sync = channel.pipeline.syncOperations
        let keeper = HTTP2ServerConnectionHandler(idleTimeout: idleTimeout, counters: counters, registry: registry)
        let keeperOnLoop = NIOLoopBound(keeper, eventLoop: channel.eventLoop)
        let http2 = NIOHTTP2Handler(
            mode: .server,
            eventLoop: channel.eventLoop,
            connectionConfiguration: connection,
            streamConfiguration: streams,
            inboundStreamInitializer: { stream in
                stream.eventLoop.makeCompletedFuture {
                    keeperOnLoop.value.streamOpened(stream)
                    try stream.pipeline.syncOperations.addHandler(HTTP2StreamRouter(configure: configureOnLoop.value))
                }
            }
        )
        let coalescer = HTTP2FlushCoalescer()
        try sync.addHandler(coalescer, position: .after(tls))
        try sync.addHandler(http2, position: .after(coalescer))
        try sync.addHandler(keeper, position: .after(http2))
    }
}
