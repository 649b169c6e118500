import GPT2

/// Floating-point operations of one DPO step on a GPT-2, counted as a plain implementation does
/// the work (the basis of effective GFLOP/s in `dpo-ddp bench`):
///
///     policy forward + backward   6 · N · tokens   +  3 · 2 · V · C · scored positions
///     reference forward           2 · N · tokens   +  1 · 2 · V · C · scored positions
///
/// N = parameters outside the embeddings (`wte`, `wpe`), tokens = rows × sequence length,
/// V = vocabulary, C = `n_embd`; the LM head costs 2·V·C per position projected onto the
/// vocabulary forward, twice that backward. Attention's score and value products are left out,
/// as in the 6·N·D rule. A plain implementation (PyTorch + TRL) projects every position.
public struct StepFLOPs: Equatable, Sendable {
    /// N: every parameter except the token and position embeddings.
    public var nonEmbeddingParameters: Int
    /// V.
    public var vocabSize: Int
    /// C.
    public var channels: Int

    /// The counts of a model of shape `config`.
    public init(config: GPT2Config) {
        let embeddings = (config.vocabSize + config.nPositions) * config.nEmbd
        nonEmbeddingParameters = GPT2Layout(config).count - embeddings
        vocabSize = config.vocabSize
        channels = config.nEmbd
    }

    /// The policy's forward and backward pass over `tokens` token positions, `scoredPositions`
    /// of them projected onto the vocabulary.
    public func policy(tokens: Int, scoredPositions: Int) -> Double {
        6 * Double(nonEmbeddingParameters) * Double(tokens) + 3 * head(scoredPositions)
    }

    /// The reference model's forward pass over the same positions.
    public func reference(tokens: Int, scoredPositions: Int) -> Double {
        2 * Double(nonEmbeddingParameters) * Double(tokens) + head(scoredPositions)
    }

    /// The LM head's forward pass: 2·V·C per scored position.
    func head(_ positions: Int) -> Double {
        2 * Double(vocabSize) * Double(channels) * Double(positions)
    }
}
