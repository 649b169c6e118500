/// The shape of a GPT-2 model, named as in Hugging Face's `GPT2Config` (`config.json`).
public struct GPT2Config: Equatable, Sendable {
    /// Transformer blocks (`n_layer`).
    public var nLayer: Int
    /// Attention heads per block (`n_head`).
    public var nHead: Int
    /// Width of the residual stream (`n_embd`).
    public var nEmbd: Int
    /// Longest sequence the position embedding covers (`n_positions`).
    public var nPositions: Int
    /// Vocabulary size (`vocab_size`); 50,257 for GPT-2's tokenizer.
    public var vocabSize: Int
    /// Width of the MLP's hidden layer (`n_inner`; `4 * n_embd` when absent).
    public var nInner: Int
    /// Epsilon of every LayerNorm (`layer_norm_epsilon`).
    public var layerNormEpsilon: Float

    /// A configuration; `nInner` defaults to `4 * nEmbd` as in Hugging Face.
    public init(nLayer: Int, nHead: Int, nEmbd: Int, nPositions: Int = 1024, vocabSize: Int = 50257,
                nInner: Int? = nil, layerNormEpsilon: Float = 1e-5) {
        self.nLayer = nLayer
        self.nHead = nHead
        self.nEmbd = nEmbd
        self.nPositions = nPositions
        self.vocabSize = vocabSize
        self.nInner = nInner ?? 4 * nEmbd
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Channels per attention head.
    public var headSize: Int { nEmbd / nHead }

    /// The shape in `config.json`'s names, for messages: `n_layer=2, n_head=2, ...`.
    public var shapeDescription: String {
        "n_layer=\(nLayer), n_head=\(nHead), n_embd=\(nEmbd), n_positions=\(nPositions), "
            + "vocab_size=\(vocabSize), n_inner=\(nInner)"
    }

    /// The sizes `--model` accepts by name: OpenAI's four GPT-2 sizes and small test sizes that
    /// share GPT-2's vocabulary.
    public static let namedSizes: [(name: String, config: GPT2Config)] = [
        ("gpt2", GPT2Config(nLayer: 12, nHead: 12, nEmbd: 768)),
        ("gpt2-medium", GPT2Config(nLayer: 24, nHead: 16, nEmbd: 1024)),
        ("gpt2-large", GPT2Config(nLayer: 36, nHead: 20, nEmbd: 1280)),
        ("gpt2-xl", GPT2Config(nLayer: 48, nHead: 25, nEmbd: 1600)),
        ("gpt2-mini", GPT2Config(nLayer: 4, nHead: 4, nEmbd: 128, nPositions: 512)),
        ("gpt2-tiny", GPT2Config(nLayer: 2, nHead: 2, nEmbd: 64, nPositions: 256)),
    ]

    /// The configuration of a named size, or nil when the name is not one of `namedSizes`.
    public static func named(_ name: String) -> GPT2Config? {
        namedSizes.first { $0.name == name }?.config
    }

    /// Checks that the numbers describe a model this engine can run.
    public func validate() throws(GPT2ConfigError) {
        for (key, value) in [("n_layer", nLayer), ("n_head", nHead), ("n_embd", nEmbd),
                             ("n_positions", nPositions), ("vocab_size", vocabSize), ("n_inner", nInner)]
        where value < 1 {
            throw GPT2ConfigError("\(key) must be at least 1, got \(value)")
        }
        guard nEmbd % nHead == 0 else {
            throw GPT2ConfigError("n_embd (\(nEmbd)) must be divisible by n_head (\(nHead))")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon.isFinite else {
            throw GPT2ConfigError("layer_norm_epsilon must be a positive number, got \(layerNormEpsilon)")
        }
        guard vocabSize <= Int(Int32.max) else {
            throw GPT2ConfigError("vocab_size \(vocabSize) does not fit 32-bit token ids")
        }
    }
}

/// A GPT-2 configuration that cannot be used, with the reason.
public struct GPT2ConfigError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, for the user.
    public let description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}
