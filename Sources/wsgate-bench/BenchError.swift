/// Why a load-generator run, or one of its connections, failed.
enum BenchError: Error, CustomStringConvertible {
    case handshakeFailed(String)
    case badURL(String)
    case badArgument(String)
    case proc(String)

    var description: String {
        switch self {
        case .handshakeFailed(let why): return "WebSocket handshake failed: \(why)"
        case .badURL(let url): return "not a ws:// or wss:// URL with host and port: \(url)"
        case .badArgument(let why): return why
        case .proc(let why): return why
        }
    }
}
