import Foundation
import NIOCore

/// One access log line: a session that ended, a handshake the gateway refused, or a proxied HTTP
/// request that ended.
///
/// Built on the EventLoop from values the session already has (no formatting there); formatted by
/// the ``AccessLog`` writer, off the loop.
enum AccessLogEntry: Sendable {
    case session(Session)
    case refused(Refusal)
    case request(Request)

    struct Session: Sendable {
        var identity: SessionIdentity
        var duration: TimeAmount
        var traffic: SessionTraffic
        var close: RouteStats.CloseKey?
        /// Wall-clock time of the end.
        var time = Date()
    }

    struct Refusal: Sendable {
        var clientAddress: SocketAddress?
        /// The route, when one had matched.
        var route: String?
        var path: String
        var status: Int
        var reason: String
        var duration: TimeAmount
        var time = Date()
    }

    struct Request: Sendable {
        var clientAddress: SocketAddress?
        var route: String?
        /// The upstream endpoint that answered (`host:port`), if one did.
        var upstream: String?
        var method: String
        var path: String
        /// 0 when the client left before an answer.
        var status: Int
        var bytesIn: Int
        var bytesOut: Int
        var duration: TimeAmount
        /// Request head sent upstream to response head read.
        var upstreamDuration: TimeAmount?
        /// Why the gateway answered itself (an error), if it did.
        var reason: String?
        /// The authenticated subject, on a route with `auth` (never the token).
        var subject: String? = nil
        var time = Date()
    }

    /// When the session ended or the refusal was answered.
    var time: Date {
        switch self {
        case .session(let session): return session.time
        case .refused(let refusal): return refusal.time
        case .request(let request): return request.time
        }
    }

    /// The fields of the line, in order, after `time`; `nil` values are written as JSON `null` or
    /// left out of text lines.
    var fields: [(key: String, value: AccessLogValue)] {
        switch self {
        case .session(let session):
            let identity = session.identity
            let subject: [(key: String, value: AccessLogValue)] = identity.subject.map { [("subject", .string($0))] } ?? []
            return [
                ("event", .string("session")),
                ("id", .integer(Int(identity.id))),
                ("client", .optionalString(identity.clientAddress.map(\.hostAndPort))),
                ("route", .string(identity.route)),
                ("upstream", .string(identity.upstreamEndpoint)),
                ("path", .string(identity.path)),
                ("subprotocol", .optionalString(identity.subprotocol)),
            ] + subject + [
                ("compression", .bool(identity.compressed)),
                ("client_protocol", .string(identity.clientProtocol)),
                ("duration_ms", .milliseconds(session.duration)),
                ("messages_in", .integer(session.traffic.messages.clientToUpstream)),
                ("messages_out", .integer(session.traffic.messages.upstreamToClient)),
                ("bytes_in", .integer(session.traffic.bytes.clientToUpstream)),
                ("bytes_out", .integer(session.traffic.bytes.upstreamToClient)),
                ("close_code", session.close.map { .integer($0.code) } ?? .optionalString(nil)),
                ("close_side", .optionalString(session.close?.side.rawValue)),
            ]
        case .refused(let refusal):
            return [
                ("event", .string("refused")),
                ("client", .optionalString(refusal.clientAddress.map(\.hostAndPort))),
                ("route", .optionalString(refusal.route)),
                ("path", .string(refusal.path)),
                ("status", .integer(refusal.status)),
                ("reason", .string(refusal.reason)),
                ("duration_ms", .milliseconds(refusal.duration)),
            ]
        case .request(let request):
            let subject: [(key: String, value: AccessLogValue)] = request.subject.map { [("subject", .string($0))] } ?? []
            return [
                ("event", .string("request")),
                ("client", .optionalString(request.clientAddress.map(\.hostAndPort))),
                ("route", .optionalString(request.route)),
                ("upstream", .optionalString(request.upstream)),
                ("method", .string(request.method)),
                ("path", .string(request.path)),
            ] + subject + [
                ("status", .integer(request.status)),
                ("bytes_in", .integer(request.bytesIn)),
                ("bytes_out", .integer(request.bytesOut)),
                ("duration_ms", .milliseconds(request.duration)),
                ("upstream_ms", request.upstreamDuration.map { .milliseconds($0) } ?? .optionalString(nil)),
                ("reason", .optionalString(request.reason)),
            ]
        }
    }
}

/// A value of an access log field.
enum AccessLogValue: Sendable {
    case string(String)
    case optionalString(String?)
    case integer(Int)
    case bool(Bool)
    case milliseconds(TimeAmount)
}
