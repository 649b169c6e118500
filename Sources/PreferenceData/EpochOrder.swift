/// The order pairs are visited in during one epoch: a permutation of `0..<pairCount` that depends
/// only on the seed and the epoch, so every rank computes the same one.
public enum EpochOrder {
    /// Fisher-Yates over `0..<pairCount` driven by SplitMix64 seeded from `seed` and `epoch`;
    /// the identity when `shuffle` is false.
    public static func permutation(pairCount: Int, seed: UInt64, epoch: Int, shuffle: Bool = true) -> [Int] {
        var order = Array(0..<pairCount)
        guard shuffle, pairCount > 1 else { return order }
        var generator = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
        for index in stride(from: pairCount - 1, to: 0, by: -1) {
            let other = Int(generator.next() % UInt64(index + 1))
            order.swapAt(index, other)
        }
        return order
    }
}
