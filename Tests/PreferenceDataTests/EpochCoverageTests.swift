import PreferenceData
import XCTest

/// One epoch, step by step, as the trainer takes it: the steps `BatchLayout.steps` counts, each
/// rank's micro-batches at `BatchLayout.positions`, mapped through the epoch's `EpochOrder`.
final class EpochCoverageTests: XCTestCase {
    /// Pair indices of one epoch, in the order the steps, ranks and micro-batches take them.
    private func epochPairs(pairCount: Int, layout: BatchLayout, epoch: Int) -> [Int] {
        let order = EpochOrder.permutation(pairCount: pairCount, seed: 7, epoch: epoch)
        var pairs: [Int] = []
        for step in 0..<layout.steps(pairCount: pairCount) {
            for rank in 0..<layout.worldSize {
                for micro in 0..<layout.accumulationSteps {
                    let positions = layout.positions(stepStart: step * layout.globalBatchSize, rank: rank, microStep: micro)
                    XCTAssertEqual(positions.count, layout.microBatchSize)
                    pairs += positions.map { order[$0] }
                }
            }
        }
        return pairs
    }

    /// Every split of 1 to 40 pairs (micro-batches of 1 to 3 pairs, 1 to 4 ranks, 1 to 3
    /// accumulation steps; global batches of 1 to 36) visits each pair at most once per epoch, and
    /// all but the `pairs mod global batch` left out (none when the pairs fill whole global batches).
    func testOneEpochVisitsEveryPairOnceLeavingOutOnlyTheRemainder() {
        for pairCount in 1...40 {
            for micro in 1...3 {
                for world in 1...4 {
                    for accumulation in 1...3 {
                        let layout = BatchLayout(microBatchSize: micro, worldSize: world, accumulationSteps: accumulation)
                        let global = micro * world * accumulation
                        for epoch in 0..<2 {
                            let pairs = epochPairs(pairCount: pairCount, layout: layout, epoch: epoch)
                            let context = "\(pairCount) pairs, \(micro) x \(world) ranks x \(accumulation), epoch \(epoch)"
                            XCTAssertEqual(pairs.count, pairCount - pairCount % global, context)
                            XCTAssertEqual(Set(pairs).count, pairs.count, "a pair visited twice: \(context)")
                            XCTAssertTrue(Set(pairs).isSubset(of: 0..<pairCount), context)
                        }
                    }
                }
            }
        }
    }
}
