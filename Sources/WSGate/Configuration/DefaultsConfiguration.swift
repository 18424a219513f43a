/// Values that apply to every route unless the route overrides them.
struct DefaultsConfiguration: Sendable, Equatable {
    /// The per-connection limits every route starts from. Default: the built-in ``Limits`` values.
    var limits: Limits
    /// The backpressure settings every route starts from. Default: the built-in values.
    var backpressure: BackpressureConfiguration
    /// The permessage-deflate settings every route starts from. Default: the built-in
    /// ``CompressionConfiguration`` values (enabled, context takeover).
    var compression: CompressionConfiguration

    /// Creates the defaults section from the built-in values unless given.
    init(
        limits: Limits = Limits(),
        backpressure: BackpressureConfiguration = BackpressureConfiguration(),
        compression: CompressionConfiguration = CompressionConfiguration()
    ) {
        self.limits = limits
        self.backpressure = backpressure
        self.compression = compression
    }
}
