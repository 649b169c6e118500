/// One forward pass's worth of token rows and the next-token log-probabilities wanted from it.
///
/// Shapes:
///   tokens, positions [B·T]  (row-major, right-padded; pad ids must still be valid token ids)
///   targetRows, targets [M]  row `targetRows[m]` (a flat index b·T + t) predicts `targets[m]`
/// Only the M target rows go through the vocabulary projection.
public struct GPT2Input: Sendable {
    /// Token ids, `[batchSize * seqLen]`.
    public var tokens: [Int32]
    /// Position ids, `[batchSize * seqLen]` (0, 1, 2, ... per row unless a caller packs rows).
    public var positions: [Int32]
    /// Number of rows B.
    public var batchSize: Int
    /// Row length T (after padding).
    public var seqLen: Int
    /// Flat indices of the positions whose next-token log-probability is computed.
    public var targetRows: [Int32]
    /// The token scored at each target row.
    public var targets: [Int32]

    /// An input with positions 0..<T in every row.
    public init(tokens: [Int32], batchSize: Int, seqLen: Int, targetRows: [Int32], targets: [Int32]) {
        precondition(tokens.count == batchSize * seqLen, "GPT2Input: tokens must be batchSize * seqLen")
        precondition(targetRows.count == targets.count, "GPT2Input: one target per target row")
        self.tokens = tokens
        self.positions = (0..<batchSize * seqLen).map { Int32($0 % seqLen) }
        self.batchSize = batchSize
        self.seqLen = seqLen
        self.targetRows = targetRows
        self.targets = targets
    }

    /// Every position of every row, scoring each row's next token (the last position of each
    /// row scores token 0 as a placeholder target). Used for full-logit forward passes.
    public static func allPositions(tokens: [Int32], batchSize: Int, seqLen: Int) -> GPT2Input {
        let n = batchSize * seqLen
        let rows = (0..<n).map { Int32($0) }
        let targets = (0..<n).map { i in (i + 1) % seqLen == 0 ? Int32(0) : tokens[i + 1] }
        return GPT2Input(tokens: tokens, batchSize: batchSize, seqLen: seqLen, targetRows: rows, targets: targets)
    }

    /// Checks ids and positions against a configuration, before any work touches memory.
    public func validate(for config: GPT2Config) throws(GPT2ConfigError) {
        guard seqLen <= config.nPositions else {
            throw GPT2ConfigError("sequence length \(seqLen) exceeds n_positions \(config.nPositions)")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw GPT2ConfigError("token id \(bad) is outside the vocabulary (size \(config.vocabSize))")
        }
        if let bad = targets.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw GPT2ConfigError("target id \(bad) is outside the vocabulary (size \(config.vocabSize))")
        }
        if let bad = positions.first(where: { $0 < 0 || Int($0) >= config.nPositions }) {
            throw GPT2ConfigError("position id \(bad) is outside 0..<\(config.nPositions)")
        }
        if let bad = targetRows.first(where: { $0 < 0 || Int($0) >= tokens.count }) {
            throw GPT2ConfigError("target row \(bad) is outside 0..<\(tokens.count)")
        }
    }
}
