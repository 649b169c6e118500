import Kernels

/// One forward pass's worth of token rows and the next-token log-probabilities wanted from it.
///
/// Rows are packed: the concatenation of every sequence with no padding, so token-wise work
/// (matmuls, LayerNorm, GELU) never touches a pad. `spans` tells attention which rows each row
/// sees, which also lets two completions share one copy of their prompt (see `appendSequence`).
///
/// Shapes:
///   tokens, positions [N]
///   targetRows, targets [M]  row `targetRows[m]` predicts `targets[m]` (a row may be listed twice)
/// Only the M target rows go through the vocabulary projection.
public struct GPT2Input: Sendable {
    /// Token ids, `[N]`.
    public private(set) var tokens: [Int32] = []
    /// Position ids, `[N]`.
    public private(set) var positions: [Int32] = []
    /// The keys each row attends to.
    public private(set) var spans = AttentionSpans()
    /// Rows whose next-token log-probability is computed.
    public var targetRows: [Int32] = []
    /// The token scored at each target row.
    public var targets: [Int32] = []

    /// No rows yet: add sequences with `appendSequence`, targets with `addTarget`.
    public init() {}

    /// `batchSize` right-padded rows of `seqLen` tokens each, positions 0..<seqLen in every row
    /// (pad ids must still be valid token ids; real tokens never see the padding after them).
    public init(tokens: [Int32], batchSize: Int, seqLen: Int, targetRows: [Int32], targets: [Int32]) {
        precondition(tokens.count == batchSize * seqLen, "GPT2Input: tokens must be batchSize * seqLen")
        precondition(targetRows.count == targets.count, "GPT2Input: one target per target row")
        for b in 0..<batchSize { appendSequence(tokens[(b * seqLen)..<((b + 1) * seqLen)]) }
        self.targetRows = targetRows
        self.targets = targets
    }

    /// Number of rows N.
    public var rows: Int { tokens.count }

    /// Appends one sequence; returns its rows. Its positions count up from `firstPosition`; its
    /// rows attend to the rows of `prefix` (earlier rows: a shared prompt) and causally to
    /// themselves. A rejected completion that shares its chosen twin's prompt is appended with
    /// the prompt's rows as `prefix` and `firstPosition` = the prompt's length.
    @discardableResult
    public mutating func appendSequence<C: Collection>(_ ids: C, firstPosition: Int = 0, prefix: Range<Int>? = nil)
        -> Range<Int> where C.Element == Int32 {
        let start = rows
        tokens.append(contentsOf: ids)
        positions.append(contentsOf: (0..<ids.count).map { Int32(firstPosition + $0) })
        return spans.appendSequence(rows: ids.count, prefix: prefix ?? start..<start)
    }

    /// Asks for the log-probability of `token` as the next token after row `row`.
    public mutating func addTarget(row: Int, token: Int32) {
        targetRows.append(Int32(row))
        targets.append(token)
    }

    /// Checks ids and positions against a configuration, before any work touches memory.
    public func validate(for config: GPT2Config) throws(GPT2ConfigError) {
        guard targetRows.count == targets.count else {
            throw GPT2ConfigError("\(targetRows.count) target rows but \(targets.count) targets")
        }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw GPT2ConfigError("token id \(bad) is outside the vocabulary (size \(config.vocabSize))")
        }
        if let bad = targets.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw GPT2ConfigError("target id \(bad) is outside the vocabulary (size \(config.vocabSize))")
        }
        if let bad = positions.first(where: { $0 < 0 || Int($0) >= config.nPositions }) {
            throw GPT2ConfigError("position id \(bad) exceeds n_positions \(config.nPositions) (sequence too long)")
        }
        if let bad = targetRows.first(where: { $0 < 0 || Int($0) >= tokens.count }) {
            throw GPT2ConfigError("target row \(bad) is outside 0..<\(tokens.count)")
        }
    }
}
