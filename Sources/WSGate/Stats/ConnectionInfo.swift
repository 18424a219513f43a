import NIOCore

/// One live session as `/stats/connections` shows it, read on the session's loop.
struct ConnectionInfo: Sendable {
    var identity: SessionIdentity
    var age: TimeAmount
    var traffic: SessionTraffic
    /// Bytes queued in the gateway toward each side (written, not yet taken by the socket).
    var bufferedTowardClient: Int
    var bufferedTowardUpstream: Int
    /// Whether that side is refusing data now (so the other side's reads are held).
    var pausedTowardClient: Bool
    var pausedTowardUpstream: Bool

    var totalBytes: Int { self.traffic.bytes.clientToUpstream + self.traffic.bytes.upstreamToClient }
    var totalBuffered: Int { self.bufferedTowardClient + self.bufferedTowardUpstream }
}

/// The query of `/stats/connections?route=&sort=buffered|age|bytes&limit=N`.
struct ConnectionListQuery: Sendable, Equatable {
    enum Sort: String, Sendable {
        /// Most bytes buffered first.
        case buffered
        /// Oldest first.
        case age
        /// Most bytes moved (both ways) first.
        case bytes
        /// By session id (start order).
        case id
    }

    var route: String?
    var sort = Sort.id
    /// At most this many connections. Default: 100.
    var limit = 100

    /// Parses the query string; an unknown or unnamed parameter or a bad value is an error message.
    /// Empty pairs (`a=1&&b=2`) are skipped.
    init(query: String) throws(AdminRequestError) {
        for pair in query.split(separator: "&") {
            let equals = pair.firstIndex(of: "=") ?? pair.endIndex
            let name = String(pair[..<equals]).removingPercentEncodingOrSelf
            let value = equals == pair.endIndex ? "" : String(pair[pair.index(after: equals)...]).removingPercentEncodingOrSelf
            switch name {
            case "route":
                self.route = value.isEmpty ? nil : value
            case "sort":
                guard let sort = Sort(rawValue: value) else {
                    throw AdminRequestError("sort must be buffered, age, bytes or id")
                }
                self.sort = sort
            case "limit":
                guard let limit = Int(value), limit >= 0 else { throw AdminRequestError("limit must be a whole number") }
                self.limit = limit
            case "":
                throw AdminRequestError("a query parameter has no name (route, sort, limit)")
            default:
                throw AdminRequestError("unknown parameter '\(name)' (route, sort, limit)")
            }
        }
    }

    init() {}

    /// Filters, sorts and truncates `connections`.
    func apply(to connections: [ConnectionInfo]) -> [ConnectionInfo] {
        var selected = connections.filter { self.route == nil || $0.identity.route == self.route }
        switch self.sort {
        case .buffered: selected.sort { ($0.totalBuffered, $1.identity.id) > ($1.totalBuffered, $0.identity.id) }
        case .age: selected.sort { ($0.identity.started, $0.identity.id) < ($1.identity.started, $1.identity.id) }
        case .bytes: selected.sort { ($0.totalBytes, $1.identity.id) > ($1.totalBytes, $0.identity.id) }
        case .id: selected.sort { $0.identity.id < $1.identity.id }
        }
        return Array(selected.prefix(self.limit))
    }
}

/// A malformed admin request: answered 400 with the message.
struct AdminRequestError: Error, Sendable {
    var message: String

    init(_ message: String) {
        self.message = message
    }
}

extension String {
    /// `%XX` escapes and `+` decoded; the text unchanged when it is not valid percent-encoding.
    fileprivate var removingPercentEncodingOrSelf: String {
        var bytes: [UInt8] = []
        var iterator = self.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return self }
                bytes.append(value)
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
