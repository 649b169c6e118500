import Distributed
import GPT2

/// What a `MemoryPlan` is computed from: the models' shapes and the settings of a run that decide
/// its memory, each rank's.
public struct MemoryPlanSettings: Equatable, Sendable {
    /// Where a run's reference log-probs come from.
    public enum Reference: String, Equatable, Sendable {
        /// No reference (reference-free losses).
        case none
        /// A frozen model run forward on every micro-batch.
        case live
        /// Computed once at the start of the DPO phase by a frozen model, then held as two
        /// numbers per pair (`precompute_ref`).
        case precomputed
    }

    /// The policy's shape.
    public var policy: GPT2Config
    /// The reference model's shape (`ref_model`'s, else the policy's).
    public var referenceModel: GPT2Config
    /// Number of ranks.
    public var ranks: Int
    /// The largest forward pass of a micro-batch.
    public var shape: ForwardShape
    /// The largest forward pass of the reference precompute (`precompute_ref_batch_size` pairs).
    public var precomputeShape: ForwardShape
    /// ZeRO stage: 0, 1 (AdamW's moments sharded) or 2 (moments and gradients sharded).
    public var zero: Int
    /// Activation checkpointing of the policy.
    public var gradientCheckpointing: Bool
    /// bfloat16 matmul inputs (a bfloat16 copy of each model's weights, rounding scratch).
    public var bf16: Bool
    /// Where the reference log-probs come from.
    public var reference: Reference
    /// Whether a frozen reference model stays in memory with `precomputed` too: after an SFT
    /// phase the post-SFT policy is kept (for checkpoints), as TR-DPO keeps its reference.
    public var keepsReferenceWeights: Bool
    /// Whether the policy itself scores the reference precompute (a fresh run whose reference is
    /// the starting model, see `Trainer.policyIsTheStartingModel`), not a frozen copy.
    public var precomputeByPolicy: Bool
    /// Whether an SFT phase runs first (the policy's activations exist when the reference is precomputed).
    public var sftPhase: Bool
    /// MiB per gradient bucket (0: the whole gradient in one).
    public var bucketCapMB: Double
    /// How gradient buckets travel between ranks.
    public var wire: WireFormat
    /// `generate_during_eval`'s key/value cache capacity in positions on rank 0, or 0 without it.
    public var generationPositions: Int
    /// LoRA: the adapter that trains while the policy's weights stay frozen; nil trains every weight.
    public var lora: LoRASettings?
    /// With LoRA, whether the reference is the base with a frozen copy of the starting adapter
    /// (`adapter`, TRL's "ref" adapter) rather than the base alone; either shares the policy's weights.
    public var referenceAdapter: Bool

    /// Settings from their parts; every shape defaults to what a plain run would use.
    public init(policy: GPT2Config, referenceModel: GPT2Config? = nil, ranks: Int, shape: ForwardShape,
                precomputeShape: ForwardShape? = nil, zero: Int = 0, gradientCheckpointing: Bool = false, bf16: Bool = false,
                reference: Reference = .live, keepsReferenceWeights: Bool = false, precomputeByPolicy: Bool = false,
                sftPhase: Bool = false,
                bucketCapMB: Double = 25, wire: WireFormat = .fp32, generationPositions: Int = 0,
                lora: LoRASettings? = nil, referenceAdapter: Bool = false) {
        self.policy = policy
        self.referenceModel = referenceModel ?? policy
        self.ranks = ranks
        self.shape = shape
        self.precomputeShape = precomputeShape ?? shape
        self.zero = zero
        self.gradientCheckpointing = gradientCheckpointing
        self.bf16 = bf16
        self.reference = reference
        self.keepsReferenceWeights = keepsReferenceWeights
        self.precomputeByPolicy = precomputeByPolicy
        self.sftPhase = sftPhase
        self.bucketCapMB = bucketCapMB
        self.wire = wire
        self.generationPositions = generationPositions
        self.lora = lora
        self.referenceAdapter = referenceAdapter
    }

    /// The settings of a training run of `config` on `ranks` ranks, its micro-batches at their
    /// largest (every sequence `max_length` tokens). Reads the models' `config.json` files. With
    /// LoRA, `config`'s settings must hold the `adapter`'s (`adoptAdapterSettings()`); a LoRA
    /// policy never scores its own reference precompute (the reference model shares its base).
    public init(config: TrainingConfig, ranks: Int) throws {
        let policy = try RunInputs.modelConfig(config.model)
        let micro = config.microBatchSize ?? max(1, config.batchSize / ranks)
        let reference: Reference = !config.lossSettings.needsReference ? .none : config.precomputeRef ? .precomputed : .live
        self.init(policy: policy, referenceModel: try config.refModel.map(RunInputs.modelConfig), ranks: ranks,
                  shape: .longestPairs(micro, maxLength: config.maxLength),
                  precomputeShape: .longestPairs(config.precomputeRefBatchSize ?? micro, maxLength: config.maxLength),
                  zero: config.zero, gradientCheckpointing: config.gradientCheckpointing, bf16: config.bf16,
                  reference: reference,
                  keepsReferenceWeights: reference != .none && ((config.sftSteps > 0 && config.refModel == nil) || config.syncRefModel),
                  precomputeByPolicy: config.sftSteps == 0 && config.refModel == nil && !config.usesLoRA
                      && (config.precomputeRefBatchSize ?? micro) <= micro,
                  sftPhase: config.sftSteps > 0, bucketCapMB: config.bucketCapMB, wire: config.gradCommDtype,
                  generationPositions: config.generateDuringEval > 0
                      ? min(policy.nPositions, config.maxLength + config.maxNewTokens) : 0,
                  lora: config.loraSettings, referenceAdapter: config.adapter != nil || config.sftSteps > 0)
    }
}
