import DPO
import Distributed
import Foundation
import GPT2
import PreferenceData

/// One optimiser step of `dpo-ddp train` on synthetic pairs, set up to be timed: this rank's
/// micro-batch through `PairScoring` (policy forward and backward over [chosen; rejected] rows,
/// reference log-probs, the sigmoid DPO loss), then the trainer's `DataParallelOptimizer` (gradient
/// reduction overlapping backward, statistics, clipping to norm 1, AdamW, with ZeRO the weight
/// all-gather), with the trainer's defaults (β 0.1, learning rate 1e-6).
final class DPOStepBench {
    /// The policy being trained.
    let policy: GPT2Model
    /// This rank's pairs as the forward pass sees them.
    let batch: MicroBatch
    /// Seconds of the one-off reference precompute, or nil with a live reference model.
    let precomputeSeconds: Double?
    private let reference: ReferenceLogProbs
    private let loss: DPOLoss
    /// The end of the step, as the trainer runs it.
    let optimizer: DataParallelOptimizer
    private let communicator: any Communicator
    private let options: ScoringOptions

    /// Loads (or initialises from `seed`) the policy, broadcasts rank 0's weights, makes this
    /// rank's `pairs` pairs (seed + rank) and the reference: a frozen copy of the policy, or with
    /// `precomputeRef` its log-probs of the pairs, computed now (the reference is the starting
    /// policy, so no second model is ever allocated). With `bf16` both run as `train --bf16`, with
    /// `gradientCheckpointing` the policy as `train --gradient-checkpointing`. With `lora` only a
    /// fresh adapter trains (PEFT's initialisation from `seed`, as `train --lora-r`) and the
    /// reference is the base, sharing the policy's weights (TRL's rule for a fresh adapter).
    init(model: String, shape: BenchShape, options: ScoringOptions, precomputeRef: Bool, bf16: Bool, zero: Int,
         bucketElements: Int?, wire: WireFormat, seed: Int, gradientCheckpointing: Bool = false, lora: LoRASettings? = nil,
         communicator: any Communicator) throws {
        let adapter = try lora.map { settings in
            let adapter = try LoRAAdapter(config: RunInputs.modelConfig(model), settings: settings)
            adapter.initializeRandomly(seed: seed)
            return adapter
        }
        policy = try RunInputs.model(model, seed: seed, trainable: true, adapter: adapter)
        policy.bf16 = bf16
        policy.gradientCheckpointing = gradientCheckpointing
        try communicator.broadcast(policy.parameters.buffer, root: 0)
        if let adapter { try communicator.broadcast(adapter.parameters.buffer, root: 0) }
        guard shape.sequenceLength <= policy.config.nPositions else {
            throw TrainingError("--prompt-tokens + --completion-tokens = \(shape.sequenceLength) exceeds the model's "
                + "n_positions \(policy.config.nPositions)")
        }
        let pairs = PreferencePair.synthetic(count: shape.pairs, promptTokens: shape.promptTokens,
                                             completionTokens: shape.completionTokens, vocabSize: policy.config.vocabSize,
                                             seed: UInt64(seed) &+ UInt64(communicator.rank))
        batch = MicroBatch(pairs: pairs, padID: 0)  // every row has the same length: no padding
        if precomputeRef {
            let start = ContinuousClock.now
            reference = .cache(try ReferenceCache.compute(model: policy, batch: batch))
            precomputeSeconds = (ContinuousClock.now - start).inSeconds
        } else if adapter != nil {
            reference = .model(try GPT2Model(sharingWeightsOf: policy, adapter: nil))
            precomputeSeconds = nil
        } else {
            let frozen = try GPT2Model(config: policy.config, trainable: false)
            frozen.parameters.copy(from: policy.parameters)
            frozen.bf16 = bf16
            reference = .model(frozen)
            precomputeSeconds = nil
        }
        loss = try DPOLoss(settings: LossSettings())
        optimizer = DataParallelOptimizer(model: policy, settings: AdamWSettings(), communicator: communicator,
                                          zero: zero, bucketElements: bucketElements, wire: wire)
        self.communicator = communicator
        self.options = options
    }

    /// Runs one optimiser step; returns its wall time and the part spent blocked in communication
    /// (including waiting for slower ranks; reductions running alongside backward do not count).
    func step() throws -> (seconds: Double, allReduceSeconds: Double) {
        let start = ContinuousClock.now
        let globalPairs = Double(batch.pairIndices.count * communicator.size)
        policy.zeroGradients()
        var stats = StepStatistics()
        try optimizer.reducingGradients {
            try PairScoring(policy: policy, options: options).run(
                batch, loss: loss, reference: reference, into: &stats, gradientScale: 1 / globalPairs,
                meanChosenTokens: Double(batch.length - batch.promptLengths[0]))
        }
        let end = try optimizer.finishStep(statistics: &stats, maxGradNorm: 1, learningRate: 1e-6)
        return ((ContinuousClock.now - start).inSeconds, end.communicationSeconds)
    }
}
