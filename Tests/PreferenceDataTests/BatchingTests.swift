import PreferenceData
import Tokenizer
import XCTest

/// Truncation of one sequence, micro-batch layout, the epoch order and the split over ranks.
final class BatchingTests: XCTestCase {
    func testTruncationKeepsTheChosenEnd() {
        let prompt: [Int32] = [1, 2, 3, 4]
        let completion: [Int32] = [5, 6, 7]
        XCTAssertEqual(TokenSequence(prompt: prompt, completion: completion, maxLength: 5, mode: .keepStart),
                       TokenSequence(ids: [1, 2, 3, 4, 5], promptLength: 4))
        XCTAssertEqual(TokenSequence(prompt: prompt, completion: completion, maxLength: 5, mode: .keepEnd),
                       TokenSequence(ids: [3, 4, 5, 6, 7], promptLength: 2))
        XCTAssertEqual(TokenSequence(prompt: prompt, completion: completion, maxLength: 2, mode: .keepEnd),
                       TokenSequence(ids: [6, 7], promptLength: 0))
        XCTAssertEqual(TokenSequence(prompt: prompt, completion: completion, maxLength: nil, mode: .keepStart),
                       TokenSequence(ids: [1, 2, 3, 4, 5, 6, 7], promptLength: 4))
    }

    func testMicroBatchIsChosenRowsThenRejectedRowsRightPadded() {
        // The example of TRL's DataCollatorForPreference docstring.
        let pairs = [
            PreferencePair(index: 7, line: 8, chosen: TokenSequence(ids: [1, 2, 3, 4, 5], promptLength: 3),
                           rejected: TokenSequence(ids: [1, 2, 3, 6], promptLength: 3)),
            PreferencePair(index: 2, line: 3, chosen: TokenSequence(ids: [7, 8, 9], promptLength: 2),
                           rejected: TokenSequence(ids: [7, 8, 10, 11], promptLength: 2)),
        ]
        let batch = MicroBatch(pairs: pairs, padID: 0)
        XCTAssertEqual(batch.pairIndices, [7, 2])
        XCTAssertEqual(batch.rows, 4)
        XCTAssertEqual(batch.length, 5)
        XCTAssertEqual(batch.tokens, [1, 2, 3, 4, 5,
                                      7, 8, 9, 0, 0,
                                      1, 2, 3, 6, 0,
                                      7, 8, 10, 11, 0])
        XCTAssertEqual(batch.completionMask, [0, 0, 0, 1, 1,
                                              0, 0, 1, 0, 0,
                                              0, 0, 0, 1, 0,
                                              0, 0, 1, 1, 0])
        XCTAssertEqual(batch.lengths, [5, 3, 4, 4])
        XCTAssertEqual(batch.promptLengths, [3, 2, 3, 2])
    }

    func testEpochOrderIsADeterministicPermutationThatChangesWithTheEpoch() {
        let first = EpochOrder.permutation(pairCount: 1000, seed: 42, epoch: 0)
        XCTAssertEqual(first.sorted(), Array(0..<1000))
        XCTAssertEqual(first, EpochOrder.permutation(pairCount: 1000, seed: 42, epoch: 0))
        XCTAssertNotEqual(first, EpochOrder.permutation(pairCount: 1000, seed: 42, epoch: 1))
        XCTAssertNotEqual(first, EpochOrder.permutation(pairCount: 1000, seed: 43, epoch: 0))
        XCTAssertNotEqual(first, Array(0..<1000))
        XCTAssertEqual(EpochOrder.permutation(pairCount: 5, seed: 42, epoch: 3, shuffle: false), [0, 1, 2, 3, 4])
    }

    /// Positions of one optimizer step, as a list per rank (micro-steps concatenated).
    private func stepPositions(_ layout: BatchLayout, stepStart: Int) -> [[Int]] {
        (0..<layout.worldSize).map { rank in
            (0..<layout.accumulationSteps).flatMap { layout.positions(stepStart: stepStart, rank: rank, microStep: $0) }
        }
    }

    func testRanksGetDisjointSlicesCoveringTheStep() {
        let layout = BatchLayout(microBatchSize: 2, worldSize: 3, accumulationSteps: 2)
        XCTAssertEqual(layout.globalBatchSize, 12)
        let ranks = stepPositions(layout, stepStart: 24)
        XCTAssertEqual(ranks, [[24, 25, 26, 27], [28, 29, 30, 31], [32, 33, 34, 35]])
    }

    func testOneRankWithFourAccumulationStepsCoversTheSamePairsAsFourRanks() {
        let single = BatchLayout(microBatchSize: 2, worldSize: 1, accumulationSteps: 4)
        let four = BatchLayout(microBatchSize: 2, worldSize: 4, accumulationSteps: 1)
        for step in 0..<3 {
            XCTAssertEqual(Set(stepPositions(single, stepStart: step * 8).joined()),
                           Set(stepPositions(four, stepStart: step * 8).joined()))
        }
    }

    func testRemainderOfAnEpochIsLeftOutAndEveryRankRunsTheSameSteps() {
        let layout = BatchLayout(microBatchSize: 4, worldSize: 2, accumulationSteps: 1)
        XCTAssertEqual(layout.steps(pairCount: 259), 32)  // 32 × 8 = 256; 3 pairs wait for the next epoch
        XCTAssertEqual(layout.steps(pairCount: 259, from: 248), 1)
        XCTAssertEqual(layout.steps(pairCount: 7), 0)
        let last = stepPositions(layout, stepStart: 248)
        XCTAssertEqual(last.joined().max(), 255)
    }

    func testDatasetMicroBatchTakesThePairsAtItsPositionsInTheOrder() throws {
        let dataset = try PreferenceDataset.load(
            url: FixtureFiles.url("formats/standard.jsonl"), tokenizer: GPT2Tokenizer.bundledGPT2(), settings: .init())
        let layout = BatchLayout(microBatchSize: 2, worldSize: 2, accumulationSteps: 1)
        let order = EpochOrder.permutation(pairCount: dataset.pairs.count, seed: 1, epoch: 0)
        let batch = dataset.microBatch(order: order, layout: layout, stepStart: 0, rank: 1, microStep: 0, padID: 50256)
        XCTAssertEqual(batch.pairIndices, [order[2], order[3]])
        XCTAssertEqual(batch.tokens.count, 4 * batch.length)
        XCTAssertEqual(Array(batch.tokens[0..<dataset.pairs[order[2]].chosen.ids.count]), dataset.pairs[order[2]].chosen.ids)
    }
}
