extension UpstreamError {
    /// The handshake's answer to the waiting client.
    var rejection: HandshakeRejection {
        HandshakeRejection(self.clientStatus, self.clientMessage)
    }
}
