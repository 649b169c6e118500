import GPT2
import PreferenceData

/// How a micro-batch is laid out for the forward pass. Both settings change only the work done,
/// never the log-probs (within float rounding; tests compare them).
public struct ScoringOptions: Equatable, Sendable {
    /// Chosen and rejected share their prompt: each pair runs as `[prompt | chosen | rejected]`,
    /// the rejected tokens' positions restarting after the prompt and their attention seeing the
    /// prompt and themselves, never the chosen tokens. The prompt's activations are computed
    /// once per pair instead of twice. Pairs whose two prompts differ (after truncation) run as
    /// two plain sequences.
    public var sharedPrompt: Bool
    /// Project every row onto the vocabulary, as a plain implementation does, instead of only
    /// the rows that predict a completion token (`dpo-ddp bench --full-logits`).
    public var fullLogits: Bool

    /// The fast defaults: shared prompts, completion-only logits.
    public init(sharedPrompt: Bool = true, fullLogits: Bool = false) {
        self.sharedPrompt = sharedPrompt
        self.fullLogits = fullLogits
    }
}

/// A micro-batch as model input: its sequences packed without padding, and every completion token
/// as a target, predicted from the row before it.
///
/// Shapes: `input` [N rows]; `owner` [M], for each of the M targets the micro-batch row whose
/// completion it scores (0..<pairs chosen, pairs..<2·pairs rejected), or nil for rows that are
/// projected only because of `fullLogits`.
public struct ScoringInput: Sendable {
    /// The forward pass's input.
    public let input: GPT2Input
    /// The micro-batch row each target belongs to.
    public let owner: [Int?]
    /// For each target, which token of its row's completion it is (0 = the first completion token).
    public let completionIndex: [Int]
    /// Number of micro-batch rows (2 × pairs: chosen rows, then rejected rows).
    public let rows: Int

    /// The targets of `batch` for the rows in `scoredRows` (all by default; the SFT phase scores
    /// only the chosen rows, and the other rows are then left out of the forward pass).
    public init(_ batch: MicroBatch, options: ScoringOptions = ScoringOptions(), scoredRows: Range<Int>? = nil) {
        let scored = scoredRows ?? 0..<batch.rows
        let pairs = batch.rows / 2
        var input = GPT2Input()
        var owner: [Int?] = []
        var completionIndex: [Int] = []
        func ids(_ r: Int) -> ArraySlice<Int32> { batch.tokens[(r * batch.length)..<(r * batch.length + batch.lengths[r])] }
        /// Targets of row r's completion tokens t, predicted from `rowOf(t - 1)`.
        func addTargets(_ r: Int, rowOf: (Int) -> Int) {
            let first = max(batch.promptLengths[r], 1)
            for t in stride(from: first, to: batch.lengths[r], by: 1) {
                input.addTarget(row: rowOf(t - 1), token: batch.tokens[r * batch.length + t])
                owner.append(r)
                completionIndex.append(t - first)
            }
        }
        var plainRows = Array(scored)
        if options.sharedPrompt {
            plainRows = []
            for c in 0..<pairs where scored.contains(c) {
                let r = pairs + c, p = batch.promptLengths[c]
                guard scored.contains(r), p > 0, batch.promptLengths[r] == p, ids(c).prefix(p) == ids(r).prefix(p) else {
                    plainRows += [c] + (scored.contains(r) ? [r] : [])
                    continue
                }
                let chosen = input.appendSequence(ids(c))
                let prompt = chosen.lowerBound..<(chosen.lowerBound + p)
                let rejected = input.appendSequence(ids(r).dropFirst(p), firstPosition: p, prefix: prompt)
                addTargets(c) { chosen.lowerBound + $0 }
                addTargets(r) { $0 < p ? prompt.lowerBound + $0 : rejected.lowerBound + $0 - p }
            }
            plainRows += scored.filter { $0 >= pairs && !scored.contains($0 - pairs) }
        }
        for r in plainRows {
            let sequence = input.appendSequence(ids(r))
            addTargets(r) { sequence.lowerBound + $0 }
        }
        if options.fullLogits {
            // Every row projected once; rows that predict a completion token keep their first
            // target in place (a shared prompt's last row predicts two, the second stays extra).
            var first = [Int?](repeating: nil, count: input.rows)
            for (m, row) in input.targetRows.enumerated() where first[Int(row)] == nil { first[Int(row)] = m }
            var full = input
            full.targetRows = (0..<input.rows).map { Int32($0) }
            full.targets = first.map { $0.map { input.targets[$0] } ?? 0 }
            var fullOwner = first.map { $0.flatMap { owner[$0] } }
            var fullIndex = first.map { $0.map { completionIndex[$0] } ?? 0 }
            for (m, row) in input.targetRows.enumerated() where first[Int(row)] != m {
                full.addTarget(row: Int(row), token: input.targets[m])
                fullOwner.append(owner[m])
                fullIndex.append(completionIndex[m])
            }
            input = full
            owner = fullOwner
            completionIndex = fullIndex
        }
        self.input = input
        self.owner = owner
        self.completionIndex = completionIndex
        rows = batch.rows
    }
}
