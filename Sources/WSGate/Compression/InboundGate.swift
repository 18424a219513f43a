/// Whether what a leg reads can be handed to the session now: the session's answer to a handler that
/// produces more than it reads (the inflater) and must stop between output chunks.
enum InboundGate: Equatable {
    /// The other leg has room.
    case open
    /// The other leg is at its high-water mark: stop, keep the input, resume on the next `read()`.
    case full
    /// The session is ending: data is dropped, only how the leg ends still matters.
    case closed
}
