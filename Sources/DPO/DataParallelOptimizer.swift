import Distributed
import GPT2

/// The end of every optimiser step on every rank, shared by `Trainer` and `dpo-ddp bench`: the
/// gradient's sum over ranks (a `GradientReducer`, overlapping the last backward pass), the
/// statistics' all-reduce, the global gradient norm and clipping, AdamW, and with ZeRO-1 the
/// all-gather of the updated weights. A finished step leaves the gradient zero (the model knows,
/// so its next `zeroGradients()` costs nothing).
///
/// Without ZeRO every rank receives the whole summed gradient, holds AdamW's moments of every
/// parameter and makes the same update. With ZeRO-1 the flat parameter buffer is split into one
/// contiguous shard per rank (`evenShards`); rank r receives the summed gradient of its shard
/// only, takes the global norm as the square root of the all-reduced sum of the shards' squared
/// norms, keeps moments for its shard only (2 × count / ranks floats instead of 2 × count),
/// updates its shard, and every rank then gathers the others' shards of the weights.
public final class DataParallelOptimizer {
    /// The shard of every rank with ZeRO-1, nil without.
    public let shards: [Range<Int>]?
    /// AdamW over this rank's shard (all parameters without ZeRO-1).
    public private(set) var adamW: AdamW
    /// The gradient's reduction over ranks.
    public let reducer: GradientReducer
    private let model: GPT2Model
    private let settings: AdamWSettings
    private let communicator: any Communicator

    /// An optimiser of `model`'s weights (identical on every rank) with fresh moments.
    ///
    /// - Parameters:
    ///   - zero: shard the optimiser state over ranks (ZeRO stage 1).
    ///   - bucketElements: gradient elements per reduction bucket, or nil for one bucket
    ///     (see `GradientReducer.bucketElements(megabytes:)`).
    ///   - wire: how the gradient buckets travel between ranks.
    public init(model: GPT2Model, settings: AdamWSettings, communicator: any Communicator, zero: Bool, bucketElements: Int?,
                wire: WireFormat = .fp32) {
        let count = model.layout.count
        shards = zero ? evenShards(count: count, parts: communicator.size) : nil
        self.model = model
        self.settings = settings
        self.communicator = communicator
        adamW = AdamW(layout: model.layout, settings: settings, range: shards?[communicator.rank])
        reducer = GradientReducer(gradients: model.gradients!, communicator: communicator,
                                  bucketElements: bucketElements, owners: shards, wire: wire)
    }

    /// Runs `body`, the last micro-batch of an optimiser step (one backward pass), reducing the
    /// gradient as the backward pass finishes it. Earlier micro-batches run outside this.
    @discardableResult
    public func reducingGradients<T>(_ body: () throws -> T) rethrows -> T {
        try reducer.overlapping(model, body)
    }

    /// What `finishStep` measured.
    public struct StepEnd: Sendable {
        /// The global gradient norm before clipping.
        public var gradNorm: Double
        /// Seconds this rank spent in communication calls (the part of the gradient's reduction
        /// that did not overlap backward, the statistics, and with ZeRO-1 the norm and weights).
        public var communicationSeconds: Double
    }

    /// Finishes an optimiser step whose micro-batches have run: waits for the gradient's
    /// reduction, all-reduces `statistics`, takes the global gradient norm, calls `check` with it
    /// and the summed statistics (throwing there leaves the weights unchanged), clips to
    /// `maxGradNorm` (0: no clipping), applies AdamW, zeroes the gradient and, with ZeRO-1,
    /// all-gathers the weights; then tells the model its parameters changed (its bfloat16 copy).
    public func finishStep(statistics: inout StepStatistics, maxGradNorm: Double, learningRate: Float,
                           check: (_ gradNorm: Double, _ statistics: StepStatistics) throws -> Void = { _, _ in })
        throws -> StepEnd {
        let gradients = model.gradients!
        let owned = UnsafeMutableBufferPointer(rebasing: gradients.buffer[adamW.range])
        var seconds = try reducer.finish()
        var squares = [sumOfSquares(UnsafeBufferPointer(owned))]
        seconds += try secondsSpent {
            try statistics.values.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
            if shards != nil { try squares.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) } }
        }
        let norm = squares[0].squareRoot()
        try check(norm, statistics)
        // Clipping and the next step's zeroing are fused into AdamW's pass over the gradient (the
        // same products, two passes fewer); with ZeRO-1 the parts other ranks own are zeroed here.
        adamW.step(parameters: model.parameters, gradients: gradients, learningRate: learningRate,
                   gradientScale: clipCoefficient(norm: norm, maxNorm: maxGradNorm), clearingGradients: true)
        if let shards {
            gradients.zero(0..<adamW.range.lowerBound)
            gradients.zero(adamW.range.upperBound..<gradients.count)
            seconds += try secondsSpent { try communicator.allGather(model.parameters.buffer, shards: shards) }
        }
        model.gradientsWereCleared()
        model.parametersChanged()
        return StepEnd(gradNorm: norm, communicationSeconds: seconds)
    }

    /// Starts AdamW afresh (zero moments, step 0), as at the start of the DPO phase.
    public func resetMoments() {
        adamW = AdamW(layout: model.layout, settings: settings, range: adamW.range)
    }

    /// Restores a checkpoint's moments of every parameter (this rank keeps its shard's).
    public func restore(m: [Float], v: [Float], stepCount: Int) {
        m.withUnsafeBufferPointer { m in
            v.withUnsafeBufferPointer { v in adamW.restore(m: m, v: v, stepCount: stepCount) }
        }
    }

    /// AdamW's moments of every parameter on `root`, for a checkpoint; nil on the other ranks.
    /// Every rank must call it: with ZeRO-1 each sends its shard to `root`.
    public func gatherMoments(root: Int = 0) throws -> (m: FloatBuffer, v: FloatBuffer, stepCount: Int)? {
        let isRoot = communicator.rank == root
        guard let shards else { return isRoot ? (adamW.m, adamW.v, adamW.stepCount) : nil }
        let whole = (m: FloatBuffer(count: isRoot ? model.layout.count : 0), v: FloatBuffer(count: isRoot ? model.layout.count : 0))
        try communicator.gather(UnsafeBufferPointer(adamW.m.buffer), into: whole.m.buffer, shards: shards, root: root)
        try communicator.gather(UnsafeBufferPointer(adamW.v.buffer), into: whole.v.buffer, shards: shards, root: root)
        return isRoot ? (whole.m, whole.v, adamW.stepCount) : nil
    }
}
