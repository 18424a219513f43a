import Foundation
import NIOSSL
import XCTest

/// A GET to the admin listener, answered over a fresh connection (`Connection: close`).
struct AdminHTTPResponse {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The body parsed as a JSON object.
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(self.body.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(self.body)")
    }
}

enum AdminHTTP {
    static func get(
        port: Int,
        _ path: String,
        token: String? = nil,
        authorization: String? = nil
    ) async throws -> AdminHTTPResponse {
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if let authorization { headers.append(("Authorization", authorization)) }
        return try await self.send(port: port, "GET", path, headers: headers)
    }

    /// A request with `Host: 127.0.0.1:<port>` unless `headers` has a Host (an empty value leaves it out).
    static func send(
        port: Int,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        tls: NIOSSLContext? = nil
    ) async throws -> AdminHTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\n"
        if !headers.contains(where: { $0.0 == "Host" }) { request += "Host: 127.0.0.1:\(port)\r\n" }
        for (name, value) in headers where !(name == "Host" && value.isEmpty) { request += "\(name): \(value)\r\n" }
        request += method == "POST" ? "Content-Length: 0\r\nConnection: close\r\n\r\n" : "Connection: close\r\n\r\n"
        let text = try await TestWebSocketClient.rawHTTPRequest(port: port, request: request, tls: tls, timeout: .seconds(30))
        guard let split = text.range(of: "\r\n\r\n") else {
            throw TestWebSocketClientError.handshakeFailed("no complete HTTP answer: \(text.debugDescription)")
        }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return AdminHTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

extension Dictionary where Key == String, Value == Any {
    /// The value at a dotted path (`routes.app.connections.active`); keys may not contain dots.
    func at(_ path: String) -> Any? {
        var current: Any? = self
        for key in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(key)]
        }
        return current
    }

    func int(_ path: String) -> Int? {
        (self.at(path) as? NSNumber)?.intValue ?? self.at(path) as? Int
    }
}
