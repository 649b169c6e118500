import Distributed
import GPT2

/// The end of every optimiser step on every rank, shared by `Trainer` and `dpo-ddp bench`: the
/// gradient's sum over ranks (a `GradientReducer`, overlapping the last backward pass), the
/// statistics' all-reduce, the global gradient norm and clipping, AdamW, and with ZeRO-1 the
/// all-gather of the updated weights. A finished step leaves the gradient zero (the model knows,
/// so its next `zeroGradients()` costs nothing).
///
/// It works on the model's trainable parameters (`trainableParameters`, `trainableLayout`,
/// `gradients`): every weight, or with a LoRA adapter the adapter alone, whose gradient is all
/// that travels between ranks and whose moments are all AdamW keeps.
///
/// Without ZeRO every rank receives the whole summed gradient, holds AdamW's moments of every
/// parameter and makes the same update. With ZeRO-1 the flat parameter buffer is split into one
/// contiguous shard per rank (`evenShards`); rank r receives the summed gradient of its shard
/// only, takes the global norm as the square root of the all-reduced sum of the shards' squared
/// norms, keeps moments for its shard only (2 × count / ranks floats instead of 2 × count),
/// updates its shard, and every rank then gathers the others' shards of the weights.
///
/// ZeRO-2 shards the gradient too: every micro-batch's gradient is reduced to the owners while
/// its backward pass runs, and each rank keeps only its shard of it (see `GradientReducer`'s
/// `releasing`); the rest of the step is ZeRO-1's.
public final class DataParallelOptimizer {
    /// The ZeRO stage: 0 (nothing sharded), 1 (optimiser state) or 2 (optimiser state and gradient).
    public let zero: Int
    /// The shard of every rank with ZeRO, nil without.
    public let shards: [Range<Int>]?
    /// AdamW over this rank's shard (all parameters without ZeRO).
    public private(set) var adamW: AdamW
    /// The gradient's reduction over ranks.
    public let reducer: GradientReducer
    private let model: GPT2Model
    private let settings: AdamWSettings
    private let communicator: any Communicator
    /// Communication seconds of this step's earlier micro-batches (ZeRO-2).
    private var earlierSeconds = 0.0

    /// An optimiser of `model`'s trainable weights (identical on every rank) with fresh moments.
    ///
    /// - Parameters:
    ///   - zero: the ZeRO stage, 0, 1 (optimiser state sharded over ranks) or 2 (gradient too).
    ///   - bucketElements: gradient elements per reduction bucket, or nil for one bucket
    ///     (see `GradientReducer.bucketElements(megabytes:)`).
    ///   - wire: how the gradient buckets travel between ranks.
    public init(model: GPT2Model, settings: AdamWSettings, communicator: any Communicator, zero: Int, bucketElements: Int?,
                wire: WireFormat = .fp32) {
        precondition((0...2).contains(zero), "DataParallelOptimizer: ZeRO stage \(zero)")
        let count = model.trainableLayout.count
        shards = zero > 0 ? evenShards(count: count, parts: communicator.size) : nil
        self.zero = zero
        self.model = model
        self.settings = settings
        self.communicator = communicator
        adamW = AdamW(layout: model.trainableLayout, settings: settings, range: shards?[communicator.rank])
        reducer = GradientReducer(gradients: model.gradients!, communicator: communicator,
                                  bucketElements: bucketElements, owners: shards, wire: wire, releasing: zero == 2)
    }

    /// Runs `body`, the last micro-batch of an optimiser step (one backward pass), reducing the
    /// gradient as the backward pass finishes it. Earlier micro-batches run in `accumulatingGradients`.
    @discardableResult
    public func reducingGradients<T>(_ body: () throws -> T) rethrows -> T {
        try reducer.overlapping(model, body)
    }

    /// Runs `body`, a micro-batch before the last of an optimiser step (one backward pass): its
    /// gradient adds to the earlier ones; with ZeRO-2 it is reduced into the owners' shards while
    /// backward runs, and this rank keeps its shard only.
    @discardableResult
    public func accumulatingGradients<T>(_ body: () throws -> T) throws -> T {
        guard zero == 2 else { return try body() }
        let result = try reducer.overlapping(model, body)
        earlierSeconds += try reducer.finish()
        return result
    }

    /// What `finishStep` measured.
    public struct StepEnd: Sendable {
        /// The global gradient norm before clipping.
        public var gradNorm: Double
        /// Seconds this rank spent in communication calls (the part of the gradient's reduction
        /// that did not overlap backward, the statistics, and with ZeRO the norm and weights).
        public var communicationSeconds: Double
    }

    /// Finishes an optimiser step whose micro-batches have run: waits for the gradient's
    /// reduction, all-reduces `statistics`, takes the global gradient norm, calls `check` with it
    /// and the summed statistics (throwing there leaves the weights unchanged), clips to
    /// `maxGradNorm` (0: no clipping), applies AdamW, zeroes the gradient and, with ZeRO,
    /// all-gathers the weights; then tells the model its parameters changed (its bfloat16 copy, which
    /// AdamW rounds as it updates when this rank updates every weight).
    public func finishStep(statistics: inout StepStatistics, maxGradNorm: Double, learningRate: Float,
                           check: (_ gradNorm: Double, _ statistics: StepStatistics) throws -> Void = { _, _ in })
        throws -> StepEnd {
        let gradients = model.gradients!
        let owned = UnsafeMutableBufferPointer(rebasing: gradients.buffer[adamW.range])
        var seconds = try reducer.finish() + earlierSeconds
        earlierSeconds = 0
        var squares = [sumOfSquares(UnsafeBufferPointer(owned))]
        seconds += try secondsSpent {
            try statistics.values.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
            if shards != nil { try squares.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) } }
        }
        let norm = squares[0].squareRoot()
        try check(norm, statistics)
        // Clipping and the next step's zeroing are fused into AdamW's pass over the gradient (the
        // same products, two passes fewer); with ZeRO-1 the parts other ranks own are zeroed here
        // (ZeRO-2's reducer released them already: writing zeros would bring their pages back).
        // A bf16 model's copy is rounded in the same pass when this rank updates every weight (with
        // ZeRO the gathered weights are rounded by the next forward pass).
        let copy = shards == nil ? model.trainableBF16Copy : nil
        adamW.step(parameters: model.trainableParameters, gradients: gradients, learningRate: learningRate,
                   gradientScale: clipCoefficient(norm: norm, maxNorm: maxGradNorm), clearingGradients: true,
                   roundingInto: copy)
        if let shards {
            if zero == 1 {
                gradients.zero(0..<adamW.range.lowerBound)
                gradients.zero(adamW.range.upperBound..<gradients.count)
            }
            seconds += try secondsSpent { try communicator.allGather(model.trainableParameters.buffer, shards: shards) }
        }
        model.gradientsWereCleared()
        if copy != nil { model.parametersChangedAndRounded() } else { model.parametersChanged() }
        return StepEnd(gradNorm: norm, communicationSeconds: seconds)
    }

    /// Starts AdamW afresh (zero moments, step 0), as at the start of the DPO phase.
    public func resetMoments() {
        adamW = AdamW(layout: model.trainableLayout, settings: settings, range: adamW.range)
    }

    /// Restores a checkpoint's moments of this rank's parameters (`adamW.range`) and step count.
    public func restore(m: [Float], v: [Float], stepCount: Int) {
        m.withUnsafeBufferPointer { m in
            v.withUnsafeBufferPointer { v in adamW.restore(m: m, v: v, stepCount: stepCount) }
        }
    }
}
