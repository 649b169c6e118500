/// How one optimizer step's pairs are split: `globalBatchSize = microBatchSize × worldSize × accumulationSteps`.
///
/// Every step takes the next `globalBatchSize` positions of the epoch's order. Rank `r` gets the
/// `r`-th block of `microBatchSize × accumulationSteps` of them and runs them as
/// `accumulationSteps` micro-batches, so every rank runs the same number of micro-steps and
/// 1 rank × 4 accumulation steps covers exactly the pairs of 4 ranks × 1.
/// The last `pairCount % globalBatchSize` positions of an epoch are left out of it (a fresh
/// shuffle puts other pairs there next epoch).
public struct BatchLayout: Equatable, Sendable {
    /// Pairs per micro-batch on one rank (each pair gives a chosen and a rejected row).
    public var microBatchSize: Int
    /// Number of ranks.
    public var worldSize: Int
    /// Micro-batches per optimizer step on each rank.
    public var accumulationSteps: Int

    public init(microBatchSize: Int, worldSize: Int, accumulationSteps: Int) {
        precondition(microBatchSize > 0 && worldSize > 0 && accumulationSteps > 0, "batch layout sizes must be positive")
        self.microBatchSize = microBatchSize
        self.worldSize = worldSize
        self.accumulationSteps = accumulationSteps
    }

    /// Pairs per optimizer step over all ranks.
    public var globalBatchSize: Int { microBatchSize * worldSize * accumulationSteps }

    /// Optimizer steps in an epoch of `pairCount` pairs, starting at epoch position `position`.
    public func steps(pairCount: Int, from position: Int = 0) -> Int {
        max(pairCount - position, 0) / globalBatchSize
    }

    /// Positions (in the epoch's order) of micro-batch `microStep` of rank `rank`, in the
    /// optimizer step that starts at epoch position `stepStart`.
    public func positions(stepStart: Int, rank: Int, microStep: Int) -> Range<Int> {
        precondition(rank >= 0 && rank < worldSize && microStep >= 0 && microStep < accumulationSteps)
        let start = stepStart + (rank * accumulationSteps + microStep) * microBatchSize
        return start..<(start + microBatchSize)
    }
}
