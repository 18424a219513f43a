/// Values that apply to every route unless the route overrides them.
public struct DefaultsConfiguration: Sendable, Equatable {
    /// The per-connection limits every route starts from. Default: the built-in ``Limits`` values.
    public var limits: Limits
    /// The backpressure settings every route starts from. Default: the built-in values.
    public var backpressure: BackpressureConfiguration
    /// The permessage-deflate settings every route starts from. Default: the built-in
    /// ``CompressionConfiguration`` values (enabled, context takeover).
    public var compression: CompressionConfiguration

    /// Creates the defaults section from the built-in values unless given.
    public init(
        limits: Limits = Limits(),
        backpressure: BackpressureConfiguration = BackpressureConfiguration(),
        compression: CompressionConfiguration = CompressionConfiguration()
    ) {
        self.limits = limits
        self.backpressure = backpressure
        self.compression = compression
    }
}
