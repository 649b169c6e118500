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

/// Which blocks' activations a forward pass keeps for the backward pass.
public enum ActivationStorage: String, Sendable {
    /// Every block's activations (`BlockActivations` × n_layer): a plain forward pass; in this
    /// version also a frozen model's.
    case everyBlock
    /// Activation checkpointing (`--gradient-checkpointing`): each block's input `[N, C]` and one
    /// block's activations, recomputed block by block in the backward pass.
    case checkpointed
}

/// Bytes of the activation buffers of one model (`GPT2Activations`), from the same per-buffer
/// counts, so an estimate follows the code: the memory plan's activation terms all come from here.
public enum ActivationMemory {
    /// Bytes of one block's saved activations (`BlockActivations`): ln1, atty, res2, ln2, res3
    /// [N, C]; qkv [N, 3C]; fch, fchGelu [N, n_inner]; att [NH, P]; four LayerNorm statistics [N].
    public static func blockBytes(shape: ForwardShape, config: GPT2Config) -> Int {
        let n = shape.rows, c = config.nEmbd
        let floats = 5 * n * c + 3 * n * c + 2 * n * config.nInner + config.nHead * shape.probabilitiesPerHead + 4 * n
        return 4 * floats
    }

    /// Bytes of the buffers outside the blocks: encoded, lnf, scratch, dres, dln, datty [N, C];
    /// lnfMean, lnfRstd [N]; dqkv [N, 3C]; dfch, dfchGelu [N, n_inner]; selected, dselected [M, C];
    /// logits [M, V]; lse, logp, logitSums, dlogp [M]; datt [NH, P]; and the Int32 token, position,
    /// target-row and target ids.
    public static func sharedBytes(shape: ForwardShape, config: GPT2Config) -> Int {
        let n = shape.rows, m = shape.targets, c = config.nEmbd
        let floats = 6 * n * c + 2 * n + 3 * n * c + 2 * n * config.nInner + 2 * m * c + m * config.vocabSize + 4 * m
            + config.nHead * shape.probabilitiesPerHead
        return 4 * floats + 4 * (2 * n + 2 * m)
    }

    /// Bytes of a model's activation buffers after a forward pass of `shape`, keeping `storage`.
    public static func bytes(shape: ForwardShape, config: GPT2Config, storage: ActivationStorage) -> Int {
        let blocks: Int
        switch storage {
        case .everyBlock:
            blocks = config.nLayer * blockBytes(shape: shape, config: config)
        case .checkpointed:
            blocks = config.nLayer * 4 * shape.rows * config.nEmbd + blockBytes(shape: shape, config: config)
        }
        return blocks + sharedBytes(shape: shape, config: config)
    }
}
