/// The order in which rows of several data sets make one, as LLaMA-Factory's `merge_dataset`
/// builds it with Hugging Face `concatenate_datasets` / `interleave_datasets`.
public enum DatasetMix {
    /// One row of the mix: which data set it comes from and its position there.
    public struct Source: Equatable, Sendable {
        /// Index of the data set in the list.
        public var set: Int
        /// Index of the row (pair) in that set.
        public var row: Int

        /// A row of set `set`.
        public init(set: Int, row: Int) {
            self.set = set
            self.row = row
        }
    }

    /// The rows of the mix of sets with `lengths` rows (each at least 1).
    ///
    /// A single set is used as it is, whatever the strategy (as `merge_dataset` returns it).
    /// `concat` lists the sets one after the other. Without `probabilities`, the interleaving
    /// strategies take one row of each set in turn: `interleave_under` stops when the shortest
    /// set is used up (rows `0..<min` of every set), `interleave_over` when the longest is (shorter
    /// sets start over), exactly as `interleave_datasets` does. With `probabilities`, each row's
    /// set is drawn independently with those probabilities (seeded by `seed`) and the set's next
    /// row is taken (starting over when used up); `interleave_under` stops right after the draw
    /// that uses up the first set, `interleave_over` after the one that has used up every set
    /// with a non-zero probability, the stopping rule of `interleave_datasets`. The draws come
    /// from SplitMix64, not numpy's generator, so the mix differs from LLaMA-Factory's but has the
    /// same distribution. `probabilities` must have one non-negative entry per set and sum to 1;
    /// `interleave_over` needs every entry positive (`TrainingConfig` checks both).
    public static func order(lengths: [Int], strategy: MixStrategy, probabilities: [Double]?, seed: UInt64) -> [Source] {
        precondition(lengths.allSatisfy { $0 > 0 }, "every data set needs a row")
        if lengths.count == 1 { return (0..<lengths[0]).map { Source(set: 0, row: $0) } }
        switch (strategy, probabilities) {
        case (.concat, _):
            return lengths.indices.flatMap { set in (0..<lengths[set]).map { Source(set: set, row: $0) } }
        case (.interleaveUnder, nil), (.interleaveOver, nil):
            let rounds = strategy == .interleaveUnder ? lengths.min()! : lengths.max()!
            return (0..<rounds).flatMap { round in lengths.indices.map { Source(set: $0, row: round % lengths[$0]) } }
        case let (_, probabilities?):
            return drawn(lengths: lengths, probabilities: probabilities, untilAll: strategy == .interleaveOver, seed: seed)
        }
    }

    /// Sets drawn with `probabilities` until the first (or, `untilAll`, every drawable) set is used up.
    private static func drawn(lengths: [Int], probabilities: [Double], untilAll: Bool, seed: UInt64) -> [Source] {
        var cumulative = [Double]()
        for p in probabilities { cumulative.append((cumulative.last ?? 0) + p) }
        let total = cumulative.last!
        var generator = SplitMix64(seed: seed ^ 0x6D69_7865_645F_7365)  // "mixed_se": apart from the epoch order's stream
        var taken = [Int](repeating: 0, count: lengths.count)
        var remaining = Set(lengths.indices.filter { probabilities[$0] > 0 })
        var order = [Source]()
        while true {
            let u = Double(generator.next() >> 11) * 0x1p-53 * total
            let set = cumulative.firstIndex { $0 > u }!  // u < total = cumulative.last
            order.append(Source(set: set, row: taken[set] % lengths[set]))
            taken[set] += 1
            if taken[set] == lengths[set] {
                remaining.remove(set)
                if !untilAll || remaining.isEmpty { return order }
            }
        }
    }
}
