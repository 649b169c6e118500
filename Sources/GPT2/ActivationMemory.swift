/// The shape of one forward pass, as `GPT2Activations` are sized for it.
public struct ForwardShape: Equatable, Sendable {
    /// Packed token rows N.
    public var rows: Int
    /// Attention probabilities per head P (`AttentionSpans.probabilitiesPerHead`).
    public var probabilitiesPerHead: Int
    /// Rows projected onto the vocabulary M (the targets).
    public var targets: Int

    /// A shape from its three sizes.
    public init(rows: Int, probabilitiesPerHead: Int, targets: Int) {
        self.rows = rows
        self.probabilitiesPerHead = probabilitiesPerHead
        self.targets = targets
    }

    /// The shape of an input.
    public init(_ input: GPT2Input) {
        self.init(rows: input.rows, probabilitiesPerHead: input.spans.probabilitiesPerHead, targets: input.targets.count)
    }

    /// The larger of two shapes in every size (buffers sized once for the largest shape seen grow to it).
    public func union(_ other: ForwardShape) -> ForwardShape {
        ForwardShape(rows: max(rows, other.rows), probabilitiesPerHead: max(probabilitiesPerHead, other.probabilitiesPerHead),
                     targets: max(targets, other.targets))
    }
}

/// Which activations a model keeps (see `GPT2Activations`).
public enum ActivationStorage: String, Sendable {
    /// A trainable model: every block's activations, for the backward pass.
    case everyBlock
    /// A trainable model with activation checkpointing (`--gradient-checkpointing`): each block's
    /// input `[N, C]` and one block's activations, recomputed block by block in the backward pass.
    case checkpointed
    /// A frozen model (the reference): one residual and one block, no backward buffers.
    case frozen
}

/// Bytes of one model's activation buffers: the memory plan's activation terms all come from
/// here, and here from `GPT2Model.activationBytes`, the count the model allocates by.
public enum ActivationMemory {
    /// Bytes of a model's activation buffers after a forward pass of `shape`, keeping `storage`,
    /// with a LoRA adapter of layout `adapter` (a trainable model's storage trains only the
    /// adapter then) or none.
    public static func bytes(shape: ForwardShape, config: GPT2Config, storage: ActivationStorage,
                             adapter: LoRALayout? = nil) -> Int {
        GPT2Model.activationBytes(config: config, rows: shape.rows, probabilitiesPerHead: shape.probabilitiesPerHead,
                                  targets: shape.targets, trainable: storage != .frozen,
                                  checkpointing: storage == .checkpointed, adapter: adapter)
    }
}
