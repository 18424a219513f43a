extension UpstreamError {
    /// The answer to the waiting client (of a handshake or a proxied HTTP request).
    var rejection: HandshakeRejection {
        HandshakeRejection(self.clientStatus, self.clientMessage)
    }
}
