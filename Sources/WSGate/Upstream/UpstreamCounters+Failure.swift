extension UpstreamCounters {
    /// Counts a failed attempt under the reason of `error` (``UpstreamError/statsReason``).
    func connectFailed(_ error: any Error) {
        self.connectFailed(reason: UpstreamError.statsReason(error))
    }
}

extension UpstreamError {
    /// The `connect_failures` key of `error`: `unreachable` (also for errors that are not an
    /// ``UpstreamError``), `refused`, `invalid_response`, `handshake_failed` or `stream_refused`.
    static func statsReason(_ error: any Error) -> String {
        switch (error as? UpstreamError)?.kind {
        case .unreachable, nil: return "unreachable"
        case .refused: return "refused"
        case .invalidResponse: return "invalid_response"
        case .handshakeFailed: return "handshake_failed"
        case .streamRefused: return "stream_refused"
        }
    }
}
