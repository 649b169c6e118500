/// The rows one forward pass sees: the chosen sequences of `pairCount` pairs, then their rejected
/// sequences, right-padded to the longest row.
///
/// Row `i < pairCount` is pair `i`'s chosen sequence and row `pairCount + i` its rejected one.
/// Arrays are row-major `rows × length`. `completionMask[r * length + t]` is 1 when token `t` of row
/// `r` is a completion token (its log-prob counts, predicted from position `t - 1`), else 0.
public struct MicroBatch: Equatable, Sendable {
    /// Global indices of the pairs, in row order.
    public var pairIndices: [Int]
    /// Number of rows: `2 × pairIndices.count`.
    public var rows: Int
    /// Padded row length: the longest row's length.
    public var length: Int
    /// Token ids, `rows × length`, padding = `padID`.
    public var tokens: [Int32]
    /// 1 at completion tokens, 0 at prompt and padding, `rows × length`.
    public var completionMask: [Float]
    /// Unpadded length of each row.
    public var lengths: [Int]
    /// Prompt length of each row (completion starts there).
    public var promptLengths: [Int]

    /// Lays out `pairs` (chosen rows first, then rejected rows), padding with `padID`.
    public init(pairs: [PreferencePair], padID: Int32) {
        let sequences = pairs.map(\.chosen) + pairs.map(\.rejected)
        let length = sequences.map(\.ids.count).max() ?? 0
        var tokens = [Int32](repeating: padID, count: sequences.count * length)
        var mask = [Float](repeating: 0, count: sequences.count * length)
        for (row, sequence) in sequences.enumerated() {
            let base = row * length
            for (t, id) in sequence.ids.enumerated() { tokens[base + t] = id }
            for t in sequence.promptLength..<sequence.ids.count { mask[base + t] = 1 }
        }
        self.pairIndices = pairs.map(\.index)
        self.rows = sequences.count
        self.length = length
        self.tokens = tokens
        self.completionMask = mask
        self.lengths = sequences.map(\.ids.count)
        self.promptLengths = sequences.map(\.promptLength)
    }
}

extension PreferenceDataset {
    /// Micro-batch `microStep` of rank `rank` in the optimizer step that starts at position
    /// `stepStart` of an epoch's `order` (from `EpochOrder.permutation`; see `BatchLayout`),
    /// padded with `padID`.
    public func microBatch(
        order: [Int], layout: BatchLayout, stepStart: Int, rank: Int, microStep: Int, padID: Int32
    ) -> MicroBatch {
        let positions = layout.positions(stepStart: stepStart, rank: rank, microStep: microStep)
        return MicroBatch(pairs: positions.map { pairs[order[$0]] }, padID: padID)
    }
}
