/// A route's authentication figures: clients admitted, and refused by reason (``AuthFailure``'s
/// labels: `missing_token`, `expired`, `bad_signature`, ...). Sessions closed at their token's expiry
/// are counted with the limits (`limit_hits.token_expired`).
struct AuthFigures: Sendable, Equatable, Encodable {
    var admitted = 0
    var refused: [String: Int] = [:]

    mutating func merge(_ other: AuthFigures) {
        self.admitted += other.admitted
        self.refused.merge(other.refused, uniquingKeysWith: +)
    }
}
