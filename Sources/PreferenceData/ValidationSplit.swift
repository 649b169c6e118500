/// `val_size`: which pairs of the training data are held out for evaluation. The split depends
/// only on the seed and the number of pairs, so every rank computes the same one.
public enum ValidationSplit {
    /// The number of eval pairs `valSize` asks for out of `pairCount`: a value below 1 is a
    /// fraction, rounded up as Hugging Face's `train_test_split` (which LLaMA-Factory calls) rounds
    /// `test_size`: `ceil(valSize × pairCount)` in float64; a whole number of 1 or more is a count.
    public static func evalCount(valSize: Double, pairCount: Int) -> Int {
        valSize < 1 ? Int((valSize * Double(pairCount)).rounded(.up)) : Int(valSize)
    }

    /// The ascending indices of the `evalCount` eval pairs among `pairCount`: the first
    /// `evalCount` positions of a seeded shuffle (a stream apart from the epoch orders').
    public static func evalIndices(pairCount: Int, evalCount: Int, seed: UInt64) -> [Int] {
        let order = EpochOrder.permutation(pairCount: pairCount, seed: seed ^ 0x7661_6C5F_7369_7A65, epoch: 0)  // "val_size"
        return order.prefix(evalCount).sorted()
    }
}
