extension GPT2Model {
    /// A zero-initialised model with `adapter` (nil: none) applied to its targeted layers. With
    /// `trainable` and an adapter, only the adapter trains: the base gets no gradient buffer at
    /// all and `gradients` is adapter-sized (`trainableLayout`); `trainable: false` is a frozen
    /// model with the adapter applied. Refuses an adapter made for another model shape.
    public convenience init(config: GPT2Config, trainable: Bool, adapter: LoRAAdapter?) throws {
        try Self.check(adapter, fits: config)
        try self.init(config: config, trainable: trainable, adapter: adapter, sharing: nil)
    }

    /// A frozen model that shares `base`'s parameter buffer (no copy of any weight, and with
    /// `bf16` the same bfloat16 copy) but has activations of its own, with `adapter` applied
    /// (nil: the base alone): the LoRA reference. It runs as `base` runs (`bf16`,
    /// `checksFinite`; `gradientCheckpointing` does not apply to a frozen model). Writes to the
    /// base weights after its first forward pass need `baseWeightsChanged()` on either model.
    public convenience init(sharingWeightsOf base: GPT2Model, adapter: LoRAAdapter?) throws {
        try Self.check(adapter, fits: base.config)
        try self.init(config: base.config, trainable: false, adapter: adapter, sharing: base.sharedWeights)
        runsAs(base)
    }

    /// Takes `base`'s `bf16` and `checksFinite` (a method: an initializer's own assignments would
    /// skip `bf16`'s observer, which registers the model as a user of the shared bfloat16 copy).
    private func runsAs(_ base: GPT2Model) {
        bf16 = base.bf16
        checksFinite = base.checksFinite
    }

    private static func check(_ adapter: LoRAAdapter?, fits config: GPT2Config) throws(LoRAError) {
        guard let adapter, adapter.config != config else { return }
        throw LoRAError("the LoRA adapter was made for a model with \(adapter.config.shapeDescription), not "
            + config.shapeDescription)
    }
}
