/// A LoRA adapter for one GPT-2 shape: its settings, layout and values. A model applies it as
/// PEFT does: every adapted layer computes `y = x W + b + scaling · (x Aᵀ) Bᵀ`.
public final class LoRAAdapter {
    /// The model shape the adapter fits.
    public let config: GPT2Config
    /// r, alpha, targets, dropout, rslora.
    public let settings: LoRASettings
    /// Where each A and B lives in `parameters`.
    public let layout: LoRALayout
    /// Every A and B, in `layout` order.
    public let parameters: FloatBuffer

    /// An adapter of zeros (A and B), to be initialised or loaded; refuses invalid settings.
    public init(config: GPT2Config, settings: LoRASettings) throws(LoRAError) {
        self.config = config
        self.settings = settings
        layout = try LoRALayout(config: config, settings: settings)
        parameters = FloatBuffer(count: layout.count)
    }

    /// PEFT's initialisation (`init_lora_weights=True`): every A ~ U(-1/sqrt(in), +1/sqrt(in))
    /// (`kaiming_uniform_(a=sqrt(5))` with fan_in = in), every B = 0, so the adapted model starts
    /// as the base. Deterministic for a `seed` (SplitMix64 over the tensors in layout order, on a
    /// stream of its own: the same seed as the model's initialisation draws other numbers);
    /// torch's own draws cannot be reproduced.
    public func initializeRandomly(seed: Int) {
        var rng = SeededNormal(seed: UInt64(bitPattern: Int64(seed)) ^ 0x4C6F_5241_4164_6170)  // "LoRAAdap"
        parameters.zero()
        for block in layout.blocks {
            for layer in block.layers {
                let bound = 1 / Double(layer.inFeatures).squareRoot()
                let a = parameters.base + layer.a
                for i in 0..<(settings.rank * layer.inFeatures) { a[i] = Float((2 * rng.nextUniform() - 1) * bound) }
            }
        }
    }

    /// A copy with the same settings and values (the frozen reference adapter).
    public func copy() -> LoRAAdapter {
        // The settings were valid for this config when self was made.
        let twin = try! LoRAAdapter(config: config, settings: settings)
        twin.parameters.copy(from: parameters)
        return twin
    }

    /// Whether every B is exactly zero: the adapted model then computes exactly what the base does.
    public var isIdentity: Bool {
        layout.blocks.allSatisfy { block in
            block.layers.allSatisfy { layer in
                UnsafeBufferPointer(start: parameters.base + layer.b, count: layer.outFeatures * settings.rank)
                    .allSatisfy { $0 == 0 }
            }
        }
    }
}
