/// One side of a proxy session as the session drives it: where it writes what the other side read,
/// and how it tells whether that side can take more.
///
/// A ``ProxyLegHandler`` at the tail of a channel's pipeline is one (the client's connection, an
/// upstream connection or HTTP/2 stream); the built-in ``EchoLeg`` is another. What a leg reads it
/// hands to ``ProxySession/received(_:from:)``, how it ends to ``ProxySession/inactive(_:)``.
/// Confined to the session's EventLoop.
protocol SessionLeg: AnyObject {
    /// Whether the leg takes writes without queueing past its high-water mark.
    var isWritable: Bool { get }
    /// Bytes queued toward the leg's peer, not yet written.
    var bufferedBytes: Int { get }
    /// Writes a frame event toward the leg's peer (not flushed).
    func send(_ event: WebSocketFrameEvent)
    func flush()
    /// Issues the read that backpressure held back (and a read in any case).
    func resumeReading()
}

/// Counts the bytes queued toward a leg's peer where its channel cannot (an HTTP/2 stream has no
/// `bufferedWritableBytes` option): the handler that frames the leg's bytes keeps the count.
protocol SessionLegQueue: AnyObject {
    var queuedBytes: Int { get }
}
