import GPT2

/// The memory one rank of a training run needs, by component (`dpo-ddp plan`, `train`'s check at
/// start, `bench`'s estimate next to its measured peak RSS). See docs/memory.md for the formulas
/// and how they compare with measured peak RSS.
///
/// `components` are resident during every training step; `phases` are the rank's whole memory at
/// the other moments that can be higher: the reference precompute at the start of the DPO phase
/// (every rank) and generating eval samples (rank 0 only). Writing a checkpoint is not one: the
/// writer streams the buffers themselves.
public struct MemoryPlan: Sendable {
    /// One named number of bytes.
    public struct Item: Equatable, Sendable {
        /// snake_case name (the JSON key).
        public var name: String
        /// Bytes.
        public var bytes: Int
        /// What it is, for the table.
        public var about: String
    }

    /// Resident memory besides the planned buffers (Swift runtime and code, OpenBLAS's packing
    /// buffers, oneDNN): a one-rank `bench`'s peak RSS minus its planned components, measured at
    /// 85-124 MB for gpt2 and gpt2-medium in float32 (46 MB with --bf16, whose products skip
    /// OpenBLAS; 32 MB for gpt2-tiny), so ±1% of those runs (docs/memory.md, "Fixed overhead").
    public static let runtimeBytes = 110_000_000
    /// What an MPI job adds to each rank (Open MPI's libraries and shared-memory transport, and
    /// what the communication term misses): 73-86 MB more than `runtimeBytes` per rank under
    /// `mpirun -np 2` on gpt2 (docs/memory.md).
    public static let mpiRuntimeBytes = 80_000_000
    /// Gradient buckets whose reduction Open MPI holds a temporary copy of at once (estimated:
    /// the bucket being reduced and the next one started).
    public static let bucketsInFlight = 2

    /// What the plan was computed from.
    public let settings: MemoryPlanSettings
    /// Memory resident during a training step, in table order.
    public let components: [Item]
    /// A rank's whole memory at the moments other than a step that can need more.
    public let phases: [Item]
    /// The parameters that train: the LoRA adapter's, or every weight of the policy.
    public let trainableParameters: Int

    /// The plan of `settings`.
    public init(_ settings: MemoryPlanSettings) {
        self.settings = settings
        let s = settings
        let p = GPT2Layout(s.policy).count, pRef = GPT2Layout(s.referenceModel).count
        let adapter = s.lora.flatMap { try? LoRALayout(config: s.policy, settings: $0) }
        // What trains: the adapter (the base weights frozen: no gradient, no moments), or every weight.
        let trained = adapter?.count ?? p
        trainableParameters = trained
        let shard = (trained + s.ranks - 1) / s.ranks
        let ownReference = adapter != nil && s.policy == s.referenceModel
        // A LoRA reference shares the policy's base weights: it holds at most a copy of the starting adapter.
        let referenceWeights = ownReference ? (s.referenceAdapter ? 4 * trained : 0) : 4 * pRef + (s.bf16 ? 2 * pRef : 0)
        let heldReference = s.reference == .live || s.keepsReferenceWeights
        let what = adapter == nil ? "every parameter" : "the adapter's \(trained) parameters"
        let state = [
            Item(name: "weights", bytes: 4 * p, about: "policy weights, float32 (4 B x \(p) parameters)"
                     + (adapter == nil ? "" : ", frozen")),
            Item(name: "adapter_weights", bytes: 4 * (adapter?.count ?? 0),
                 about: s.lora.map { "LoRA adapter, float32 (r \($0.rank) on \($0.targets.joined(separator: ",")))" } ?? "no LoRA adapter"),
            Item(name: "bf16_weights", bytes: s.bf16 ? 2 * p : 0, about: "bfloat16 copy of the policy weights (--bf16)"),
            Item(name: "gradients", bytes: 4 * (s.zero >= 2 ? shard : trained),
                 about: s.zero >= 2 ? "gradient shard (ZeRO-2: 1/\(s.ranks) of \(what))" : "gradients of \(what)"),
            Item(name: "adamw_moments", bytes: 8 * (s.zero >= 1 ? shard : trained),
                 about: s.zero >= 1 ? "AdamW m and v of this rank's shard of \(what) (ZeRO-\(s.zero))" : "AdamW m and v of \(what)"),
        ]
        let runtime = Item(name: "runtime", bytes: Self.runtimeBytes + (s.ranks > 1 ? Self.mpiRuntimeBytes : 0),
                           about: "runtime, BLAS and oneDNN (measured)" + (s.ranks > 1 ? " + MPI" : ""))
        let policyStorage: ActivationStorage = s.gradientCheckpointing ? .checkpointed : .everyBlock
        let referenceStorage = ActivationStorage.frozen
        let referenceAdapter = ownReference && s.referenceAdapter ? adapter : nil
        components = state + [
            Item(name: "reference_weights", bytes: heldReference ? referenceWeights : 0,
                 about: !heldReference ? "no reference model held"
                     : ownReference ? "the base shared with the policy" + (s.referenceAdapter ? " + a frozen copy of the starting adapter" : "")
                     : s.reference == .live ? "frozen reference model" + (s.bf16 ? " and its bfloat16 copy" : "")
                     : "reference weights kept for checkpoints"),
            Item(name: "reference_activations",
                 bytes: s.reference == .live ? ActivationMemory.bytes(shape: s.shape, config: s.referenceModel, storage: referenceStorage,
                                                                      adapter: referenceAdapter) : 0,
                 about: "reference forward buffers"),
            Item(name: "activations", bytes: ActivationMemory.bytes(shape: s.shape, config: s.policy, storage: policyStorage,
                                                                    adapter: adapter),
                 about: "policy activations, \(s.shape.rows) packed rows, \(s.shape.targets) logits rows"
                     + (s.gradientCheckpointing ? " (checkpointed)" : "")),
            Item(name: "bf16_scratch",
                 bytes: s.bf16 ? max(Self.bf16ScratchBytes(s.shape, s.policy),
                                     s.reference == .live ? Self.bf16ScratchBytes(s.shape, s.referenceModel) : 0) : 0,
                 about: "bfloat16 rounding of activations and gradients (--bf16)"),
            Item(name: "communication", bytes: Self.communicationBytes(s, gradientElements: trained, adapter: adapter),
                 about: s.ranks > 1 ? "gradient buckets in flight (\(s.wire.rawValue))" : "none on one rank"),
            runtime,
        ]
        let step = components.reduce(0) { $0 + $1.bytes }
        let stateBytes = (state + [runtime]).reduce(0) { $0 + $1.bytes }
        var phases: [Item] = []
        if s.reference == .precomputed && s.precomputeByPolicy {
            let bytes = stateBytes + ActivationMemory.bytes(shape: s.precomputeShape, config: s.policy, storage: policyStorage,
                                                            adapter: adapter)
                + (s.bf16 ? Self.bf16ScratchBytes(s.precomputeShape, s.policy) : 0)
            phases.append(Item(name: "reference_precompute", bytes: bytes,
                               about: "start of DPO: the policy (still the reference) scores the data (every rank)"))
        } else if s.reference == .precomputed {
            let bytes = stateBytes + referenceWeights
                + ActivationMemory.bytes(shape: s.precomputeShape, config: s.referenceModel, storage: referenceStorage,
                                         adapter: referenceAdapter)
                + (s.bf16 ? Self.bf16ScratchBytes(s.precomputeShape, s.referenceModel) : 0)
                + (s.sftPhase ? ActivationMemory.bytes(shape: s.shape, config: s.policy, storage: policyStorage, adapter: adapter) : 0)
            phases.append(Item(name: "reference_precompute", bytes: bytes,
                               about: "start of DPO: a frozen reference scores the data (every rank)"))
        }
        // Checkpoints need nothing more: the writer streams the model's, the reference's and the
        // optimiser's own buffers to the file (float32, no copy), and every rank writes only its
        // shard of the moments with ZeRO (no rank gathers them).
        if s.generationPositions > 0 {
            let reload = s.reference == .live || ownReference ? 0 : s.reference == .none ? 4 * p : referenceWeights
            let cache = max(Self.generationBytes(s.policy, positions: s.generationPositions),
                            Self.generationBytes(s.referenceModel, positions: s.generationPositions))
            phases.append(Item(name: "eval_generation", bytes: step + reload + cache,
                               about: "rank 0 generating eval samples (key/value cache, reference reloaded)"))
        }
        self.phases = phases
    }

    /// Bytes resident during a training step.
    public var stepBytes: Int { components.reduce(0) { $0 + $1.bytes } }

    /// A rank's peak: the largest of a step and the phases it goes through (rank 0 all of them).
    public func peakBytes(rankZero: Bool) -> Int {
        phases.filter { rankZero || $0.name == "reference_precompute" }.map(\.bytes).reduce(stepBytes, max)
    }

    /// The peak of a node running `localRanks` ranks, one of them rank 0.
    public func nodeBytes(localRanks: Int) -> Int {
        peakBytes(rankZero: true) + max(0, localRanks - 1) * peakBytes(rankZero: false)
    }

    /// The bytes of component `name` (0 when there is none).
    public subscript(name: String) -> Int { (components + phases).first { $0.name == name }?.bytes ?? 0 }

    /// Grow-only bfloat16 scratch of one forward and backward of `shape`: the shared operand
    /// rounded once for two products (the largest `dout` [N, max(3C, n_inner)] or dlogits [M, V]),
    /// activations rounded per product ([N, max(C, n_inner)]) and the LM head's input [M, C].
    static func bf16ScratchBytes(_ shape: ForwardShape, _ config: GPT2Config) -> Int {
        let n = shape.rows, m = shape.targets, c = config.nEmbd, inner = config.nInner
        return 2 * (max(n * max(3 * c, inner), m * config.vocabSize) + n * max(c, inner) + m * c)
    }

    /// Open MPI's temporary copies of the buckets in flight, at the wire's element size: of
    /// `bucketsInFlight` buckets of `bucket_cap_mb` (or the whole gradient without buckets) for the
    /// all-reduce; with ZeRO-1 of up to the whole gradient, as its reductions to each shard's owner
    /// keep one for every reduction not finished (measured: two thirds of the gradient at 2 ranks).
    /// With bf16 on the wire also the bfloat16 copy of every bucket (kept until the step's
    /// reductions end). With ZeRO-2 also the gradient outside the shard that backward has written
    /// and not yet released (`GradientReducer` releases a block's buckets once they are reduced, at
    /// the next block's report): two blocks' gradients, and the token embedding's, which the LM head
    /// writes first and backward finishes last (measured on gpt2-large at 2 ranks: within 3%).
    /// With LoRA the gradient is the `adapter`'s and has no embedding part: two blocks' adapter tensors.
    static func communicationBytes(_ s: MemoryPlanSettings, gradientElements p: Int, adapter: LoRALayout? = nil) -> Int {
        guard s.ranks > 1 else { return 0 }
        let bucket = s.bucketCapMB > 0 ? min(4 * p, Int(s.bucketCapMB * 1024 * 1024)) : 4 * p
        let inFlight = (s.zero == 1 ? 4 * p : min(4 * p, Self.bucketsInFlight * bucket)) * s.wire.bytesPerElement / 4
        let staged = s.wire == .bf16 ? 2 * p : 0
        let c = s.policy.nEmbd, inner = s.policy.nInner
        let blockElements = 4 * c * c + 2 * c * inner + 9 * c + inner
        let adapterBlock = adapter.map { a in
            a.blocks.map { $0.layers.reduce(0) { $0 + a.settings.rank * ($1.inFeatures + $1.outFeatures) } }.max() ?? 0
        }
        let written = adapterBlock.map { 2 * $0 } ?? s.policy.vocabSize * c + 2 * blockElements
        let unreleased = s.zero >= 2 ? min(4 * p, 4 * written) : 0
        return inFlight + staged + unreleased
    }

    /// `GenerationBuffers` of `config` for `positions` positions: keys and values [L, P, C], the
    /// working rows (128 at most) and the logits.
    static func generationBytes(_ config: GPT2Config, positions: Int) -> Int {
        let c = config.nEmbd, r = min(positions, 128)
        let floats = 2 * config.nLayer * positions * c + 7 * r * c + r * config.nInner + 2 * r
            + config.nHead * positions + c + config.vocabSize
        return 4 * floats + 8 * r
    }
}
