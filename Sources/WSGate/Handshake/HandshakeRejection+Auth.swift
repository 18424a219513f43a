extension HandshakeRejection {
    /// The answer to a client refused by its route's authentication (``AuthFailure/rejection``); a
    /// forward-auth refusal passes the auth endpoint's body on.
    init(_ failure: AuthFailure) {
        let (status, message, headers) = failure.rejection
        if case .forwardAuthRefused(let answer) = failure {
            self.init(status, message, headers: headers, body: (answer.contentType, answer.body))
        } else {
            self.init(status, message, headers: headers)
        }
    }
}
