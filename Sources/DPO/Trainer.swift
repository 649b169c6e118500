import Distributed
import Foundation
import GPT2
import PreferenceData

/// The DPO training loop (optionally after a supervised phase on the chosen answers), written
/// against `Communicator` so one process and many MPI ranks run the same code.
///
/// One optimiser step: every rank runs its `accumulation` micro-batches of its slice of the global
/// batch (policy forward, reference log-probs, loss, backward into the summed gradient, each pair's
/// derivative scaled by 1/global batch); the gradient's reduction over ranks starts during the
/// last micro-batch's backward pass, then statistics are all-reduced, the gradient is clipped and
/// AdamW updates the weights identically on every rank (with ZeRO each rank its shard, then
/// all-gathered; ZeRO-2 also reduces every micro-batch's gradient into the owners' shards): see
/// `DataParallelOptimizer`. Rank 0 writes metrics and checkpoints (with ZeRO every rank writes its
/// optimiser shard into the checkpoint).
///
/// With a LoRA policy (`GPT2Model.adapter`) only the adapter trains: gradients, their reduction,
/// clipping, AdamW, ZeRO and checkpoints cover it alone, and the reference follows TRL 1.16
/// (`referenceModel()`).
public final class Trainer {
    /// The resolved configuration.
    public let config: TrainingConfig
    /// Called on rank 0 for every logged record (train and eval), after it is written.
    public var onLog: ((LogRecord) -> Void)?
    /// Called on rank 0 after each checkpoint is written.
    public var onCheckpoint: ((URL) -> Void)?
    /// The run directory's lock (rank 0), held for as long as this trainer lives.
    public var runDirectoryLock: RunDirectoryLock?

    let communicator: any Communicator
    let data: TrainingData
    let policy: GPT2Model
    let layout: BatchLayout
    let dpoLoss: DPOLoss
    let sftLoss: DPOLoss
    let store: CheckpointStore
    let loadInitialModel: () throws -> GPT2Model
    let dpoSteps: Int
    let optimizer: DataParallelOptimizer
    var state: TrainerState
    var reference: (train: ReferenceLogProbs, eval: ReferenceLogProbs)?
    var referenceWeights: GPT2Model?
    /// A LoRA run's reference adapter: a frozen copy of the adapter the DPO phase started from
    /// (`adapter`'s, or the policy's after an SFT phase); nil until the DPO phase starts, and when
    /// the reference is the base alone (see `loraReferenceAdapter`).
    var referenceAdapter: LoRAAdapter?
    var orders: (epoch: Int, order: [Int])?
    /// `generate_during_eval`'s prompts and the reference's completions (rank 0, when set).
    var evalSamples: EvalSamples?

    /// What a run resumes from: a checkpoint's state, optimiser state (each rank reads its part)
    /// and saved reference (weights, or a LoRA run's reference adapter).
    public struct Resumed {
        public var state: TrainerState
        public var optimizer: OptimizerCheckpoint
        public var reference: [Float]?
        public var referenceAdapter: LoRAAdapter?

        /// What a run resumes from.
        public init(state: TrainerState, optimizer: OptimizerCheckpoint, reference: [Float]?, referenceAdapter: LoRAAdapter? = nil) {
            self.state = state
            self.optimizer = optimizer
            self.reference = reference
            self.referenceAdapter = referenceAdapter
        }
    }

    /// Prepares a run.
    ///
    /// - Parameters:
    ///   - policy: the starting weights (identical on every rank), or a checkpoint's; with a LoRA
    ///     adapter, only the adapter trains.
    ///   - resume: what a checkpoint holds besides the policy.
    ///   - loadInitialModel: the starting policy, frozen (`config.model` loaded again; for a LoRA
    ///     policy its base, shared, with the starting adapter).
    public init(config: TrainingConfig, data: TrainingData, policy: GPT2Model, communicator: any Communicator,
                resume: Resumed? = nil, loadInitialModel: @escaping () throws -> GPT2Model) throws {
        self.config = config
        self.data = data
        self.policy = policy
        policy.bf16 = config.bf16
        policy.gradientCheckpointing = config.gradientCheckpointing
        self.communicator = communicator
        self.loadInitialModel = loadInitialModel
        let micro = config.microBatchSize ?? config.batchSize / communicator.size
        layout = BatchLayout(microBatchSize: micro, worldSize: communicator.size,
                             accumulationSteps: config.batchSize / (micro * communicator.size))
        dpoLoss = try DPOLoss(settings: config.lossSettings)
        sftLoss = try DPOLoss(settings: LossSettings(types: [.sft]))
        store = CheckpointStore(directory: URL(fileURLWithPath: config.outputDir))
        let stepsPerEpoch = layout.steps(pairCount: data.train.pairs.count)
        guard stepsPerEpoch > 0 else {
            throw TrainingError("the training data has \(data.train.pairs.count) pairs, fewer than batch_size \(config.batchSize)")
        }
        dpoSteps = config.maxSteps ?? max(1, Int(config.epochs * Double(stepsPerEpoch)))
        optimizer = DataParallelOptimizer(model: policy, settings: config.adamWSettings, communicator: communicator,
                                          zero: config.zero,
                                          bucketElements: GradientReducer.bucketElements(megabytes: config.bucketCapMB),
                                          wire: config.gradCommDtype)
        state = TrainerState(config: config, worldSize: communicator.size)
        if let resume {
            state = resume.state
            state.config = config
            state.worldSize = communicator.size
            let moments = try resume.optimizer.moments(of: optimizer.adamW.range)
            optimizer.restore(m: moments.m, v: moments.v, stepCount: resume.optimizer.stepCount)
            if let weights = resume.reference {
                let model = try GPT2Model(config: policy.config, trainable: false)
                model.parameters.base.update(from: weights, count: weights.count)
                referenceWeights = model
            }
            referenceAdapter = resume.referenceAdapter
        }
        // Each rank draws its own adapter dropout masks (its own pairs), resumed where they were.
        policy.adapterDropoutSeed = UInt64(bitPattern: Int64(config.seed)) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(communicator.rank)
        policy.adapterDropoutPasses = state.adapterDropoutPasses
    }

    /// Optimiser steps of the whole run (SFT then DPO).
    public var totalSteps: Int { config.sftSteps + dpoSteps }

    /// Micro-batches per optimiser step on each rank.
    public var accumulationSteps: Int { layout.accumulationSteps }

    /// Pairs per micro-batch on each rank.
    public var microBatchSize: Int { layout.microBatchSize }

    /// Parameters of the policy.
    public var parameterCount: Int { policy.layout.count }

    /// Parameters the optimiser updates: the policy's, or its LoRA adapter's.
    public var trainableParameterCount: Int { policy.trainableLayout.count }

    /// The policy being trained (its weights after `run()` are the final model).
    public var model: GPT2Model { policy }

    /// How a run ended.
    public struct Outcome: Sendable {
        /// The last evaluation's metrics, without the `eval_` prefix (empty without eval data).
        public var evalMetrics: [String: Double]
        /// The signal that stopped the run early (after a checkpoint), or nil when it finished.
        public var stoppedBy: Int32?
        /// Steps completed.
        public var step: Int
    }

    /// Trains to the last step, evaluating, logging and checkpointing as configured. A SIGTERM or
    /// SIGUSR1 on any rank stops every rank at the next step boundary after a checkpoint.
    @discardableResult
    public func run() throws -> Outcome {
        let log = communicator.rank == 0
            ? try MetricsWriter(url: store.directory.appendingPathComponent("metrics.jsonl"), keepingThrough: state.step)
            : nil
        var window = StepStatistics()
        window.values = state.pendingStatistics
        var windowStart = ContinuousClock.now
        var windowPairs = 0.0
        var windowCommunication = 0.0
        var lastEval: [String: Double] = [:]
        let samplesLog = try openSamplesLog()
        policy.checksFinite = config.debug
        if config.checkGradients && state.step == 0 {
            for line in try gradientCheck() where communicator.rank == 0 { print(line) }
        }
        while state.step < totalSteps {
            let isSFT = state.step < config.sftSteps
            communicator.activity = "step \(state.step + 1)"
            if !isSFT && reference == nil { try prepareReference() }
            let lr = learningRate(at: state.step)
            let (stats, gradNorm, communication) = try optimiserStep(sft: isSFT, learningRate: lr)
            windowCommunication += communication
            state.step += 1
            if !isSFT && config.syncRefModel && (state.step - config.sftSteps) % config.refModelSyncSteps == 0 {
                syncReference()
            }
            window.merge(stats)
            state.pendingSteps += 1
            windowPairs += stats[.pairs]
            state.tokensSeen += stats[.tokens]
            if state.step == config.sftSteps && config.sftSteps > 0 {
                optimizer.resetMoments()  // DPO starts afresh
                if communicator.rank == 0 {
                    _ = try store.saveModel(policy, baseModel: config.model, tokenizerFiles: data.tokenizerFiles, name: "sft")
                }
            }
            let phaseEnds = state.step == totalSteps || state.step == config.sftSteps
            if state.step % config.loggingSteps == 0 || phaseEnds {
                let seconds = (ContinuousClock.now - windowStart).inSeconds
                var values = window.metrics
                values["num_tokens"] = state.tokensSeen
                values["grad_norm"] = gradNorm
                values["learning_rate"] = lr
                values["pairs_per_second"] = windowPairs / max(seconds, 1e-9)
                values["tokens_per_second"] = window[.tokens] / max(seconds, 1e-9)
                values["allreduce_seconds"] = windowCommunication / Double(max(state.pendingSteps, 1))
                if isSFT {
                    for key in ["rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
                                "logps/rejected", "logits/rejected"] { values[key] = nil }
                }
                try emit(LogRecord(step: state.step, epoch: epochProgress, phase: isSFT ? "sft" : "dpo", values: values), to: log)
                window = StepStatistics()
                state.pendingSteps = 0
                windowPairs = 0
                windowCommunication = 0
                if config.debug { try checkWeightsAgree() }
                windowStart = ContinuousClock.now
            }
            state.pendingStatistics = window.values
            if !isSFT, data.eval != nil, (config.evalSteps > 0 && state.step % config.evalSteps == 0) || state.step == totalSteps {
                let evalStart = ContinuousClock.now
                communicator.activity = "evaluation after step \(state.step)"
                lastEval = try evaluate()
                try emit(LogRecord(step: state.step, epoch: epochProgress, phase: "dpo",
                                   values: Dictionary(uniqueKeysWithValues: lastEval.map { ("eval_" + $0.key, $0.value) })), to: log)
                if let samplesLog { try writeSamples(to: samplesLog) }
                windowStart += ContinuousClock.now - evalStart  // throughput counts training time only
            }
            communicator.activity = "end of step \(state.step)"
            let stop = try agreedStopSignal()
            if (config.saveSteps > 0 && state.step % config.saveSteps == 0) || state.step == totalSteps || stop != 0 {
                try saveCheckpoint()
            }
            if stop != 0 { return Outcome(evalMetrics: lastEval, stoppedBy: stop, step: state.step) }
        }
        if communicator.rank == 0 {
            _ = try store.saveModel(policy, baseModel: config.model, tokenizerFiles: data.tokenizerFiles, name: "final")
        }
        try communicator.barrier()
        return Outcome(evalMetrics: lastEval, stoppedBy: nil, step: state.step)
    }

    /// The stop signal any rank received (the largest number), agreed by all ranks, or 0.
    func agreedStopSignal() throws -> Int32 {
        var signal = [Int64(StopSignal.pending)]
        try signal.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        return Int32(signal[0])
    }

    /// Debug mode: every rank's trained weights (a LoRA policy's adapter) must equal rank 0's (a
    /// fingerprint compared after each logged step); a rank that drifted stops the job with the step.
    func checkWeightsAgree() throws {
        var hash = ContentHash()
        hash.update(UnsafeRawBufferPointer(UnsafeBufferPointer(policy.trainableParameters.buffer)))
        var fingerprint = [hash.value]
        try fingerprint.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: 0) }
        guard fingerprint[0] == hash.value else {
            throw TrainingError("step \(state.step): this rank's weights differ from rank 0's (fingerprint "
                + "\(hash.hex) vs \(ContentHash.hex(fingerprint[0])))")
        }
    }

    /// Metrics of the current policy over every eval pair (each rank a share), without `eval_`.
    public func evaluate() throws -> [String: Double] {
        guard let eval = data.eval else { return [:] }
        if reference == nil { try prepareReference() }
        policy.adapterDropoutEnabled = false  // PyTorch's eval mode: no adapter dropout
        defer { policy.adapterDropoutEnabled = true }
        return try PairScoring(policy: policy, config: config).evaluate(
            eval, loss: dpoLoss, reference: reference!.eval, microBatchSize: layout.microBatchSize, padID: data.padID,
            communicator: communicator)
    }

    /// Rank 0's `samples.jsonl` when `generate_during_eval` is set (lines after the resumed step dropped).
    func openSamplesLog() throws -> MetricsWriter? {
        guard communicator.rank == 0, config.generateDuringEval > 0, let eval = data.eval else { return nil }
        evalSamples = EvalSamples(eval: eval, count: config.generateDuringEval, maxNewTokens: config.maxNewTokens,
                                  tokenizer: data.tokenizer, endOfText: data.padID)
        return try MetricsWriter(url: store.directory.appendingPathComponent(EvalSamples.fileName), keepingThrough: state.step)
    }

    /// Appends this evaluation's completions of the policy and the reference to `log` (rank 0).
    func writeSamples(to log: MetricsWriter) throws {
        guard let evalSamples else { return }
        let records = try evalSamples.records(step: state.step, epoch: epochProgress, policy: policy) {
            if case let .model(model)? = reference?.eval { return model }
            return config.lossSettings.needsReference ? try referenceModel() : try loadInitialModel()
        }
        for record in records { try log.append(object: record) }
    }

    // MARK: - One step

    func optimiserStep(sft: Bool, learningRate: Double) throws -> (StepStatistics, Double, Double) {
        if config.failAtStep == state.step + 1 && communicator.rank == config.failRank {
            throw TrainingError("injected failure at step \(state.step + 1) (--fail-at-step \(state.step + 1) --fail-rank \(config.failRank))")
        }
        let order = epochOrder()
        let global = Double(layout.globalBatchSize)
        let stepPairs = (state.position..<(state.position + layout.globalBatchSize)).map { data.train.pairs[order[$0]] }
        let meanChosenTokens = Double(stepPairs.reduce(0) { $0 + $1.chosen.completionLength }) / global
        let batches = (0..<layout.accumulationSteps).map { micro in
            data.train.microBatch(order: order, layout: layout, stepStart: state.position,
                                  rank: communicator.rank, microStep: micro, padID: data.padID)
        }
        // AOT sorts over the global batch: a forward pass over this rank's share first, gathered from
        // every rank, then the usual forward and backward with each pair's share of the batch terms.
        let batchTerms = !sft && dpoLoss.settings.isBatchLevel
            ? try PairScoring(policy: policy, config: config).gatheredBatchTerms(
                batches, position: Dictionary(uniqueKeysWithValues: stepPairs.enumerated().map { ($1.index, $0) }),
                loss: dpoLoss, reference: reference!.train, communicator: communicator)
            : nil
        policy.zeroGradients()
        var stats = StepStatistics()
        for (micro, batch) in batches.enumerated() {
            let targets: Int
            do {
                let score = {
                    try PairScoring(policy: self.policy, config: self.config).run(
                        batch, loss: sft ? self.sftLoss : self.dpoLoss, reference: sft ? .none : self.reference!.train,
                        into: &stats, gradientScale: 1 / global, meanChosenTokens: max(meanChosenTokens, 1),
                        batchTerms: batchTerms)
                }
                // The last micro-batch's backward pass leaves final gradients to reduce (with ZeRO-2
                // every micro-batch's is reduced into the owners' shards).
                targets = micro == layout.accumulationSteps - 1
                    ? try optimizer.reducingGradients(score) : try optimizer.accumulatingGradients(score)
            } catch let error as NonFiniteValue {
                throw TrainingError("step \(state.step + 1), micro-batch \(micro + 1) (pairs \(batch.pairIndices)): \(error)")
            }
            if config.debug, let tensor = policy.nonFiniteGradient() {
                throw TrainingError("step \(state.step + 1), micro-batch \(micro + 1): non-finite gradient in \(tensor)")
            }
            if config.debug {
                print("rank \(communicator.rank) step \(state.step + 1) micro-batch \(micro + 1)/\(layout.accumulationSteps): "
                    + "pairs \(batch.pairIndices) length \(batch.length) completion tokens \(targets)")
            }
        }
        let step = state.step + 1
        let end = try optimizer.finishStep(statistics: &stats, maxGradNorm: config.maxGradNorm,
                                           learningRate: Float(learningRate)) { norm, stats in
            guard norm.isFinite, stats[.loss].isFinite else {
                throw TrainingError("step \(step): non-finite \(norm.isFinite ? "loss" : "gradient norm") "
                    + "(loss sum \(stats[.loss]), grad norm \(norm)); lower the learning rate or check the data")
            }
        }
        state.optimizerSteps = optimizer.adamW.stepCount
        state.position += layout.globalBatchSize
        return (stats, end.gradNorm, end.communicationSeconds)
    }

    /// `--check-gradients`: on the first micro-batch of the first step, the DPO loss's gradient
    /// against finite differences along the whole gradient and along its restriction to a sample
    /// of tensors (embeddings, first and last block, final LayerNorm; a LoRA policy's first and
    /// last two adapter tensors, skipping any whose gradient is exactly zero, as a fresh adapter's
    /// A is at step 1). Throws when one is off by more than 1e-2 relative; returns one line per check.
    func gradientCheck() throws -> [String] {
        if config.sftSteps == 0 && reference == nil { try prepareReference() }
        let sft = config.sftSteps > 0
        let loss = sft ? sftLoss : dpoLoss
        let batch = data.train.microBatch(order: epochOrder(), layout: layout, stepStart: state.position,
                                          rank: communicator.rank, microStep: 0, padID: data.padID)
        let ref: ReferenceLogProbs = sft ? .none : reference!.train
        let scoring = PairScoring(policy: policy, config: config)
        let pairs = Double(batch.pairIndices.count)
        // AOT's terms over this micro-batch alone, recomputed at every perturbed point.
        func batchTerms() throws -> [Int: PairLoss]? {
            guard loss.settings.isBatchLevel else { return nil }
            let terms = loss.batchTerms(try scoring.pairLogProbs(batch, loss: loss, reference: ref).pairs)
            return Dictionary(uniqueKeysWithValues: zip(batch.pairIndices, terms).map { ($0, $1) })
        }
        func meanLoss() throws -> Double {
            var stats = StepStatistics()
            try scoring.run(batch, loss: loss, reference: ref, into: &stats, gradientScale: nil, meanChosenTokens: nil,
                            batchTerms: try batchTerms())
            return stats[.loss] / pairs
        }
        policy.adapterDropoutEnabled = false  // one deterministic loss for the finite differences
        defer { policy.adapterDropoutEnabled = true }
        let terms = try batchTerms()
        policy.zeroGradients()
        var stats = StepStatistics()
        try scoring.run(batch, loss: loss, reference: ref, into: &stats, gradientScale: 1 / pairs, meanChosenTokens: nil,
                        batchTerms: terms)
        let trainable = policy.trainableLayout.tensors
        let sample = policy.adapter == nil
            ? ["wte.weight", "wpe.weight", "h.0.attn.c_attn.weight", "h.0.mlp.c_fc.bias",
               "h.\(policy.config.nLayer - 1).mlp.c_proj.weight", "ln_f.weight"].compactMap { name in trainable.first { $0.name == name } }
            : (trainable.prefix(2) + trainable.suffix(2)).filter { tensor in
                UnsafeBufferPointer(start: policy.gradients!.base + tensor.offset, count: tensor.count).contains { $0 != 0 }
            }
        var lines: [String] = []
        for (name, tensor) in [("all parameters", nil)] + sample.map({ ($0.name, $0) }) {
            let ranges = tensor.map { [$0.offset..<($0.offset + $0.count)] }
            let result = try checkDirectionalDerivative(model: policy, ranges: ranges, loss: meanLoss)
            lines.append(String(format: "gradient check %@: analytic %.6e, finite difference %.6e, relative error %.1e",
                                name, result.analytic, result.numeric, result.relativeError))
            guard result.relativeError < 1e-2 else {
                throw TrainingError(lines.last! + " exceeds 1e-2: the backward pass disagrees with the forward pass")
            }
        }
        policy.zeroGradients()
        return lines
    }

    // MARK: - Reference, schedule, data order, checkpoints

    /// Builds the reference for the DPO phase: none for reference-free losses; else the
    /// `ref_model`, the saved post-SFT reference, the policy as it is at the start of DPO, or the
    /// starting model; precomputed into caches (and then released) with `precompute_ref`.
    func prepareReference() throws {
        guard config.lossSettings.needsReference else {
            reference = (.none, .none)
            return
        }
        guard config.precomputeRef else {
            let model = try referenceModel()
            reference = (.model(model), .model(model))
            return
        }
        let model = policyIsTheStartingModel ? policy : try referenceModel()
        let train = try cachedReference(model: model, dataset: data.train, url: data.trainURL)
        let eval = try data.eval.map { try cachedReference(model: model, dataset: $0, url: data.evalURL!) }
        reference = (.cache(train), eval.map { .cache($0) } ?? .none)
    }

    /// Whether the policy still holds the starting model's weights and can score the reference
    /// precompute itself (as `dpo-ddp bench --precompute-ref` does): before the first step of a run
    /// without `ref_model` or an SFT phase, its reference being the starting model. That spares a
    /// second copy of the weights, and its activations, next to the optimiser state (a peak higher
    /// than any step's, docs/memory.md); a larger `precompute_ref_batch_size` would instead grow
    /// the policy's activations for the whole run, so then a frozen copy scores it.
    /// A LoRA policy never does: its reference (base and adapter copy, sharing the base) costs no
    /// weights, and the policy's adapter dropout must not reach the cache.
    var policyIsTheStartingModel: Bool {
        state.step == 0 && config.sftSteps == 0 && config.refModel == nil && referenceWeights == nil && policy.adapter == nil
            && (config.precomputeRefBatchSize ?? layout.microBatchSize) <= layout.microBatchSize
    }

    /// The DPO phase's frozen reference: the `ref_model`, the saved post-SFT reference, the policy
    /// as it is at the start of DPO (after an SFT phase; kept as `referenceWeights`), or the starting model.
    ///
    /// A LoRA policy's reference, as TRL 1.16 has it (docs/lora.md), runs on the policy's base
    /// weights (shared, no copy) with `loraReferenceAdapter`.
    func referenceModel() throws -> GPT2Model {
        let model: GPT2Model
        if let saved = referenceWeights {
            model = saved  // saved in a checkpoint: after SFT, or updated by TR-DPO
        } else if let path = config.refModel {
            model = try HFCheckpoint.load(from: URL(fileURLWithPath: path), trainable: false)
        } else if let adapter = policy.adapter {
            model = try GPT2Model(sharingWeightsOf: policy, adapter: loraReferenceAdapter(adapter))
        } else if config.sftSteps > 0 {
            model = try GPT2Model(config: policy.config, trainable: false)
            model.parameters.copy(from: policy.parameters)
            referenceWeights = model
        } else {
            model = try loadInitialModel()
        }
        if config.syncRefModel { referenceWeights = model }  // TR-DPO updates it and checkpoints save it
        model.bf16 = config.bf16  // the reference in the policy's precision: step 1's loss is exactly ln 2
        return model
    }

    /// The reference log-probs of `dataset` from an existing cache file, or computed (each rank a
    /// share) and written to the first writable place (see `ReferenceCache`), which rank 0 picks
    /// before the computation. Rank 0 alone reads an existing file and sends it to every rank, so
    /// nodes without a shared file system agree.
    func cachedReference(model: GPT2Model, dataset: PreferenceDataset, url: URL) throws -> ReferenceCache {
        let name = ReferenceCache.fileName(dataURL: url, model: model, dataset: dataset, ldAlpha: config.ldAlpha)
        let directories = ReferenceCache.searchDirectories(
            dataURL: url, cacheDirectory: config.refCacheDir.map(URL.init(fileURLWithPath:)), runDirectory: store.directory)
        let n = dataset.pairs.count
        var sums = [Double](repeating: 0, count: 2 * n)
        var found: [Int64] = [0]
        var destination: URL?
        if communicator.rank == 0 {
            let files = directories.map { $0.appendingPathComponent(name) }
            if let existing = files.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
                let cache = try ReferenceCache.read(existing, pairCount: n)
                sums = cache.chosen + cache.rejected
                found[0] = 1
                print("reference log-probs of \(n) pairs read from \(existing.path)")
            } else {
                guard let directory = ReferenceCache.firstWritable(directories) else {
                    throw TrainingError("precompute_ref: cannot write the reference cache in "
                        + directories.map(\.path).joined(separator: " or ") + "; set --ref-cache-dir to a writable directory")
                }
                destination = directory.appendingPathComponent(name)
            }
        }
        try found.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: 0) }
        if found[0] == 1 {
            try sums.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: 0) }
            return ReferenceCache(chosen: Array(sums[..<n]), rejected: Array(sums[n...]))
        }
        let start = ContinuousClock.now
        let cache = try ReferenceCache.compute(model: model, dataset: dataset,
                                               microBatchSize: config.precomputeRefBatchSize ?? layout.microBatchSize,
                                               padID: data.padID, settings: config.lossSettings, communicator: communicator)
        if let destination {
            try cache.write(to: destination)
            let fallback = config.refCacheDir == nil && destination.deletingLastPathComponent() != directories[0]
            print("reference log-probs of \(n) pairs computed in "
                + String(format: "%.1f s", (ContinuousClock.now - start).inSeconds) + ", cached in \(destination.path)"
                + (fallback ? " (the data's directory \(directories[0].path) is not writable)" : ""))
        }
        try communicator.barrier()
        return cache
    }

    /// TR-DPO's update of the live reference, in place in its flat weight buffer on every rank (the
    /// policy's weights being identical on every rank after a step): ref ← α·policy + (1 − α)·ref,
    /// in float32 as TRL's `SyncRefModelCallback` (`mul_(1 − α).add_(policy, alpha=α)`).
    func syncReference() {
        guard let model = referenceWeights else { preconditionFailure("sync_ref_model without a live reference") }
        let alpha = Float(config.refModelMixupAlpha), keep = Float(1 - config.refModelMixupAlpha)
        let ref = model.parameters.base, pol = policy.parameters.base
        for i in 0..<model.parameters.count {
            ref[i] = ref[i] * keep + pol[i] * alpha
        }
    }

    /// The adapter a LoRA policy's reference applies, TRL 1.16's rule: none for a fresh adapter
    /// (the base with the adapter off); else a frozen copy of the adapter the DPO phase starts
    /// from (`adapter`'s, or the policy's after an SFT phase: TRL's "ref" adapter), taken when
    /// that phase starts and kept as `referenceAdapter` (saved in checkpoints, restored on resume).
    /// An adapter whose every B is zero changes nothing (base + adapter = base exactly), so then
    /// the reference is the base alone as for a fresh adapter, and a resumed run whose checkpoint
    /// holds no reference adapter after the DPO phase started had one of those.
    func loraReferenceAdapter(_ adapter: LoRAAdapter) -> LoRAAdapter? {
        if referenceAdapter == nil && (config.adapter != nil || config.sftSteps > 0)
            && state.step == config.sftSteps && !adapter.isIdentity {
            referenceAdapter = adapter.copy()
        }
        return referenceAdapter
    }

    /// The learning rate applied at global step `step`.
    func learningRate(at step: Int) -> Double {
        if step < config.sftSteps { return config.sftLearningRate ?? config.learningRate }
        let warmup = config.warmupSteps > 0 ? config.warmupSteps : Int((config.warmupRatio * Double(dpoSteps)).rounded(.up))
        return LearningRateSchedule(kind: config.lrScheduler, peak: config.learningRate,
                                    warmupSteps: warmup, totalSteps: dpoSteps).rate(at: step - config.sftSteps)
    }

    /// The shuffled order of the current epoch, moving to the next epoch when the remainder is
    /// smaller than a global batch (those pairs are left out of this epoch).
    func epochOrder() -> [Int] {
        if state.position + layout.globalBatchSize > data.train.pairs.count {
            state.epoch += 1
            state.position = 0
        }
        if let cached = orders, cached.epoch == state.epoch { return cached.order }
        let order = EpochOrder.permutation(pairCount: data.train.pairs.count, seed: UInt64(config.seed), epoch: state.epoch)
        orders = (state.epoch, order)
        return order
    }

    var epochProgress: Double {
        let perEpoch = layout.steps(pairCount: data.train.pairs.count) * layout.globalBatchSize
        return Double(state.epoch) + Double(state.position) / Double(max(perEpoch, 1))
    }

    func emit(_ record: LogRecord, to log: MetricsWriter?) throws {
        guard let log else { return }
        try log.append(record)
        onLog?(record)
    }

    /// Writes a checkpoint: rank 0 the model and the rest, and the optimiser state whole (rank 0)
    /// or, with ZeRO, each rank its shard.
    func saveCheckpoint() throws {
        state.adapterDropoutPasses = policy.adapterDropoutPasses
        let contents = communicator.rank != 0 ? nil : CheckpointStore.Contents(
            model: policy, optimizer: optimizer.shards == nil ? optimizer.adamW : nil,
            reference: (config.sftSteps > 0 && config.refModel == nil) || config.syncRefModel ? referenceWeights : nil,
            state: state, tokenizerFiles: data.tokenizerFiles, referenceAdapter: referenceAdapter)
        let url = optimizer.shards != nil
            ? try store.saveSharded(contents, step: state.step, shard: optimizer.adamW, parameterCount: policy.trainableLayout.count,
                                    communicator: communicator, keep: config.saveTotalLimit)
            : try contents.map { try store.save($0, keep: config.saveTotalLimit) }
        if let url { onCheckpoint?(url) }
        try communicator.barrier()
    }
}
