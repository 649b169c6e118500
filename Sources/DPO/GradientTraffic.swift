import Distributed

/// The bytes one rank moves per optimiser step to sum the gradient over ranks, counted as ring
/// algorithms move them (docs/distributed.md, "What is all-reduced per step"): the gradient of the
/// trainable parameters (the whole model, or a LoRA adapter) at the wire's element size.
///
/// - ZeRO 0: one all-reduce of the payload; a ring sends, and receives, 2·(n−1)/n of it per rank.
/// - ZeRO 1 and 2: the payload is reduced to each shard's owner ((n−1)/n of it, a reduce-scatter),
///   once per step, or with ZeRO-2 once per micro-batch, then the updated float32 weights are
///   all-gathered ((n−1)/n of 4 bytes per trainable parameter, whatever the wire).
///
/// The statistics' few dozen doubles are left out. On one rank everything is 0.
public struct GradientTraffic: Equatable, Sendable {
    /// Trainable parameters (gradient elements).
    public var gradientElements: Int
    /// Ranks of the job.
    public var ranks: Int
    /// The gradient as it travels: `gradientElements` × the wire's bytes per element.
    public var payloadBytes: Int
    /// What the gradient's all-reduce (ZeRO 0) or its reductions to the owners (ZeRO 1, 2) send per rank and step.
    public var reduceBytes: Int
    /// What the weight all-gather sends per rank and step (ZeRO 1, 2; else 0).
    public var allGatherBytes: Int

    /// The traffic of a step over `ranks` ranks.
    ///
    /// - Parameters:
    ///   - zero: the ZeRO stage, 0, 1 or 2.
    ///   - microBatches: micro-batches per optimiser step (ZeRO-2 reduces each one).
    public init(gradientElements: Int, ranks: Int, zero: Int, wire: WireFormat, microBatches: Int = 1) {
        self.gradientElements = gradientElements
        self.ranks = ranks
        payloadBytes = gradientElements * wire.bytesPerElement
        let share = { (bytes: Int) in bytes * (ranks - 1) / ranks }
        switch zero {
        case 0:
            reduceBytes = share(2 * payloadBytes)
            allGatherBytes = 0
        default:
            reduceBytes = share(payloadBytes) * (zero == 2 ? microBatches : 1)
            allGatherBytes = share(4 * gradientElements)
        }
    }

    /// Everything one rank sends per step (and receives: the ring is symmetric).
    public var sentBytes: Int { reduceBytes + allGatherBytes }
}
