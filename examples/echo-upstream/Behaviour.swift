import NIOHTTP1

/// What echo-upstream does on a connection, chosen by the request path (the URI before `?`).
enum Behaviour: Equatable {
    /// Echo every data frame as it arrives (same opcode and FIN), answer pings, answer a close.
    case echo
    /// `/headers…`: first send a text message with the request URI and headers as JSON, then echo.
    case headers
    /// `/close/CODE`: on the first data message send a close frame (CODE, "bye") and close.
    case close(code: UInt16)
    /// `/reject/STATUS`: refuse the upgrade with this HTTP status.
    case reject(status: Int)
    /// `/drop`: on the first data message close the TCP connection without a close frame.
    case drop
    /// `/send/N`: right after the upgrade send N binary messages of 1 KiB, then echo.
    case send(count: Int)
    /// `/record-close`: echo, and remember the close frame the client sends (see `CloseRecord`; any
    /// path with `?record=TAG` records under TAG too, and `/last-close?record=TAG` reports it).
    case recordClose
    /// `/last-close`: first send a text message describing the last close frame received on a
    /// `/record-close` connection ("CODE REASON", "CODE", "no-status" or "none"), then echo.
    case lastClose

    init(uri: String) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()  // drop "" before "/"
        let first = parts.first.map(String.init) ?? ""
        let argument = parts.dropFirst().first.map(String.init)

        if path.hasPrefix("/headers") {
            self = .headers
        } else if first == "close", let argument, let code = UInt16(argument) {
            self = .close(code: code)
        } else if first == "reject", let argument, let status = Int(argument), (100...999).contains(status) {
            self = .reject(status: status)
        } else if path == "/drop" {
            self = .drop
        } else if first == "send", let argument, let count = Int(argument), count >= 0 {
            self = .send(count: count)
        } else if path == "/record-close" {
            self = .recordClose
        } else if path == "/last-close" {
            self = .lastClose
        } else {
            self = .echo
        }
    }
}

/// The subprotocol echo-upstream selects: the *last* one the client offered, so that tests can
/// tell whether a gateway relays the upstream's choice rather than picking one itself.
func lastOfferedSubprotocol(_ headers: HTTPHeaders) -> String? {
    let offered = headers["Sec-WebSocket-Protocol"]
        .flatMap { $0.split(separator: ",") }
        .map { $0.trimmingSpaces() }
        .filter { !$0.isEmpty }
    return offered.last
}

/// `{"uri": "...", "headers": [["name", "value"], ...]}` with the headers in the order received.
func requestDescriptionJSON(_ head: HTTPRequestHead) -> String {
    let headers = head.headers.map { "[\(jsonString($0.name)), \(jsonString($0.value))]" }
    return "{\"uri\": \(jsonString(head.uri)), \"headers\": [\(headers.joined(separator: ", "))]}"
}

func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

extension Substring {
    func trimmingSpaces() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
