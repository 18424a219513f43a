import NIOCore
import NIOHTTP2

/// Sits behind the `NIOHTTP2Handler` of a pooled connection (which hands stream frames to its inline
/// multiplexer, and only the connection's own frames on) and tells the pool what changes its capacity: the server's SETTINGS (first one: ready or not for extended
/// CONNECT; later ones: MAX_CONCURRENT_STREAMS), GOAWAY, and the connection closing.
final class HTTP2ConnectionObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame

    /// What the pool hears.
    enum Event {
        case settings(maxConcurrentStreams: Int?, enableConnectProtocol: Bool?, first: Bool)
        case goAway
        case closed
    }

    private let report: (Event) -> Void
    private var sawSettings = false

    init(report: @escaping (Event) -> Void) {
        self.report = report
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.payload {
        case .settings(.settings(let settings)):
            let first = !self.sawSettings
            self.sawSettings = true
            // A SETTINGS frame may repeat a parameter: the last value counts (RFC 9113 section 6.5).
            let maxStreams = settings.last { $0.parameter == .maxConcurrentStreams }.map { Int($0.value) }
            let connect = settings.last { $0.parameter == .enableConnectProtocol }.map { $0.value == 1 }
            self.report(.settings(maxConcurrentStreams: maxStreams, enableConnectProtocol: connect, first: first))
        case .goAway:
            self.report(.goAway)
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.report(.closed)
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension HTTP2ConnectionObserver: Sendable {}
