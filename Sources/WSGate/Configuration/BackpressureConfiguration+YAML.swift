extension BackpressureConfiguration {
    /// `defaults.backpressure` or a route's `backpressure`: the keys written, applied on top of `base`.
    static func read(_ node: ConfigurationNode, base: BackpressureConfiguration) -> BackpressureConfiguration {
        node.mapping(onto: base) { mapping, backpressure in
            mapping.read("high_water", Scalar.positiveSize, into: &backpressure.highWater)
            mapping.read("low_water", Scalar.positiveSize, into: &backpressure.lowWater)
            mapping.read("max_buffered", Scalar.positiveSize, into: &backpressure.maxBuffered)
            mapping.read("max_stall", Scalar.positiveDuration, into: &backpressure.maxStall)
            mapping.read("on_limit", Scalar.choice(LimitAction.self), into: &backpressure.onLimit)
            backpressure.validate(in: mapping)
        }
    }

    /// Low water stays below high water, and high water at most the hard ceiling.
    func validate(in mapping: ConfigurationMapping) {
        if self.lowWater >= self.highWater {
            mapping.reject(
                "low_water must be below high_water (\(self.highWater) bytes)",
                about: ["low_water", "high_water"]
            )
        }
        if self.highWater > self.maxBuffered {
            mapping.reject(
                "high_water must not exceed max_buffered (\(self.maxBuffered) bytes)",
                about: ["high_water", "max_buffered"]
            )
        }
    }
}
