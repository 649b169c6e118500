import ArgumentParser
import DPO
import Distributed
import Foundation
import PreferenceData

/// Every training setting as a command-line option. Each is optional so that only what the user
/// typed overrides the config file; the long names are the YAML keys in kebab-case.
struct TrainOptions: ParsableArguments {
    @Option(help: "Policy to start from: a checkpoint directory or a size name (gpt2, gpt2-medium, gpt2-mini, gpt2-tiny, ...).")
    var model: String?

    @Option(help: "Reference model directory (default: a frozen copy of the starting policy).")
    var refModel: String?

    @Option(help: "Tokenizer directory (default: the model's files, else GPT-2's bundled files).")
    var tokenizer: String?

    @Option(help: "Training preference pairs (JSON Lines or a JSON array); several files comma-separated.")
    var data: String?

    @Option(help: "Held-out pairs for eval_ metrics.")
    var evalData: String?

    @Option(help: "Row layout: standard, implicit-prompt, conversational, alpaca, sharegpt (default: detected).")
    var dataFormat: DataFormat?

    @Option(help: "Most tokens in prompt + completion (default 1024, or the model's n_positions if smaller).")
    var maxLength: Int?

    @Option(help: "keep_start (default), keep_end or proportional (prompt and responses share max-length as LLaMA-Factory does).")
    var truncationMode: TruncationMode?

    @Option(help: "Chat template file for conversational data (default: the plain template).")
    var chatTemplate: String?

    @Option(help: "Use only the first N rows of each data file.")
    var maxSamples: Int?

    @Option(help: "How several --data files are combined: concat (default), interleave_under or interleave_over.")
    var mixStrategy: MixStrategy?

    @Option(help: "Comma-separated probabilities, one per --data file, for interleave_under/interleave_over (default: in turn).")
    var interleaveProbs: String?

    @Option(help: "Hold out part of --data for evaluation (no --eval-data): a fraction below 1 or a number of pairs.")
    var valSize: Double?

    @Option(help: "At each evaluation, greedy completions of the first N eval prompts by policy and reference, to samples.jsonl (default 0).")
    var generateDuringEval: Int?

    @Option(help: "Most new tokens per --generate-during-eval completion (default 64).")
    var maxNewTokens: Int?

    @Option(help: "Comma-separated loss types (default sigmoid): sigmoid, robust, hinge, ipo, sigmoid_norm, sppo_hard, nca_pair, bco_pair, apo_zero, apo_down, sft, simpo, exo_pair, aot, aot_unpaired, discopop, orpo, token_pair.")
    var loss: String?

    @Option(help: "Comma-separated weights, one per loss type (default all 1).")
    var lossWeights: String?

    @Option(help: "DPO temperature beta (default 0.1).")
    var beta: Double?

    @Option(help: "Label smoothing epsilon in [0, 0.5): cDPO for sigmoid, robust, simpo; EXO's epsilon; aot, aot_unpaired (default 0).")
    var labelSmoothing: Double?

    @Option(help: "SimPO target margin gamma (default 0.5).")
    var simpoGamma: Double?

    @Flag(inversion: .prefixedNo, help: "Use a zero reference log-ratio (no reference model).")
    var referenceFree: Bool?

    @Option(help: "DiscoPOP temperature tau for --loss discopop (default 0.05).")
    var discopopTau: Double?

    @Option(help: "f-DPO divergence: reverse_kl (default), forward_kl, js_divergence, alpha_divergence.")
    var fDivergenceType: FDivergence?

    @Option(help: "Alpha of --f-divergence-type alpha_divergence (default 0.5).")
    var fAlphaDivergenceCoef: Double?

    @Option(help: "LD-DPO: weight in [0, 1] of completion tokens beyond the shorter completion's length (default: none).")
    var ldAlpha: Double?

    @Flag(inversion: .prefixedNo, help: "WPO: weight each pair by its completions' length-normalised policy probabilities.")
    var useWeighting: Bool?

    @Flag(inversion: .prefixedNo, help: "Compute reference log-probs once, cache them (see --ref-cache-dir), hold no reference model.")
    var precomputeRef: Bool?

    @Flag(inversion: .prefixedNo, help: "TR-DPO: mix the policy into the reference every --ref-model-sync-steps DPO steps.")
    var syncRefModel: Bool?

    @Option(help: "TR-DPO: the policy's share alpha in [0, 1] of the updated reference (default 0.6).")
    var refModelMixupAlpha: Double?

    @Option(help: "TR-DPO: DPO steps between reference updates (default 512).")
    var refModelSyncSteps: Int?

    @Option(help: "Pairs per forward pass of --precompute-ref on each rank (default: the micro-batch size).")
    var precomputeRefBatchSize: Int?

    @Option(help: "Directory of --precompute-ref's cache files (default: beside the data if writable, else --output-dir).")
    var refCacheDir: String?

    @Flag(inversion: .prefixedNo, help: "Compute each pair's prompt once for both completions (default; same numbers, less work).")
    var sharedPrompt: Bool?

    @Option(help: "Peak learning rate (default 1e-6).")
    var learningRate: Double?

    @Option(help: "constant, linear (default) or cosine.")
    var lrScheduler: LearningRateScheduleKind?

    @Option(help: "Linear warm-up steps (default 0).")
    var warmupSteps: Int?

    @Option(help: "Warm-up as a fraction of the DPO steps, when --warmup-steps is 0.")
    var warmupRatio: Double?

    @Option(help: "Clip the global gradient norm to this (default 1.0; 0 disables).")
    var maxGradNorm: Double?

    @Option(help: "AdamW decoupled weight decay, not on biases and LayerNorms (default 0).")
    var weightDecay: Double?

    @Option(help: "AdamW beta1 (default 0.9).")
    var adamBeta1: Double?

    @Option(help: "AdamW beta2 (default 0.999).")
    var adamBeta2: Double?

    @Option(help: "AdamW epsilon (default 1e-8).")
    var adamEpsilon: Double?

    @Option(help: "Pairs per optimiser step over all ranks (default 8).")
    var batchSize: Int?

    @Option(help: "Pairs per rank per forward/backward (default batch-size / ranks).")
    var microBatchSize: Int?

    @Option(help: "Optimiser steps of the DPO phase (default: --epochs passes over the data).")
    var maxSteps: Int?

    @Option(help: "Passes over the data when --max-steps is not set (default 1).")
    var epochs: Double?

    @Option(help: "Supervised steps on the chosen answers before DPO (default 0).")
    var sftSteps: Int?

    @Option(help: "Learning rate of the SFT phase (default --learning-rate).")
    var sftLearningRate: Double?

    @Option(help: "Log metrics every N steps (default 10).")
    var loggingSteps: Int?

    @Option(help: "Evaluate every N steps and at the end (default 0: only at the end).")
    var evalSteps: Int?

    @Option(help: "Checkpoint every N steps and at the end (default 500; 0: only at the end).")
    var saveSteps: Int?

    @Option(help: "Keep at most K checkpoints.")
    var saveTotalLimit: Int?

    @Option(help: "Run directory (default runs/dpo).")
    var outputDir: String?

    @Flag(inversion: .prefixedNo, help: "Let a new run replace an earlier run's checkpoints, metrics and models in --output-dir (else refused).")
    var overwriteOutputDir: Bool?

    @Option(help: "Seed of the data order and of random initialisation (default 42).")
    var seed: Int?

    @Option(help: "Threads per rank for the memory-bound kernels (default cores / ranks).")
    var threads: Int?

    @Option(help: "ZeRO stage: 0 (default) keeps all optimiser state on every rank, 1 shards AdamW's moments and update over the ranks, 2 the gradient too.")
    var zero: Int?

    @Option(help: "MiB of gradient per all-reduce bucket, started during the backward pass (default 25; 0: one all-reduce after it).")
    var bucketCapMb: Double?

    @Option(help: "Seconds a rank may wait in one collective for the others before the job is ended, naming the ranks that did not arrive (default 1800; 0: forever).")
    var collectiveTimeout: Double?

    @Option(help: "How gradient buckets travel between ranks: fp32 (default) or bf16 (half the bytes; the reduction adds in float32).")
    var gradCommDtype: WireFormat?

    @Flag(inversion: .prefixedNo, help: "Matmuls with bfloat16 inputs and float32 accumulation (PyTorch's bf16 autocast); everything else float32.")
    var bf16: Bool?

    @Flag(inversion: .prefixedNo, help: "Keep only each block's input in the forward pass and recompute its activations in the backward pass: far less memory, a longer step, the same results.")
    var gradientCheckpointing: Bool?

    @Option(help: "LoRA rank r: train a low-rank adapter of the --lora-targets layers, the model frozen (default 0: train every weight).")
    var loraR: Int?

    @Option(help: "LoRA alpha: the adapter's output is scaled by alpha / r (default 2r).")
    var loraAlpha: Double?

    @Option(help: "Comma-separated PEFT target_modules, GPT-2 Conv1D layers (default c_attn,c_proj,c_fc; c_proj is both projections).")
    var loraTargets: String?

    @Option(help: "Dropout probability on the adapter's input while training (default 0).")
    var loraDropout: Double?

    @Flag(inversion: .prefixedNo, help: "rsLoRA: scale the adapter by alpha / sqrt(r) instead of alpha / r.")
    var useRslora: Bool?

    @Option(help: "PEFT adapter directory to continue training (its r, alpha, targets, dropout, rslora; the reference is the model with a frozen copy of it).")
    var adapter: String?

    @Flag(inversion: .prefixedNo, help: "NaN/Inf checks after every layer, deterministic single-threaded kernels, a line per micro-batch.")
    var debug: Bool?

    @Flag(inversion: .prefixedNo, help: "Finite-difference gradient check at the first step.")
    var checkGradients: Bool?

    @Option(help: ArgumentHelp("Debug only: make --fail-rank fail at this step (tests that a failure ends the job).", visibility: .hidden))
    var failAtStep: Int?

    @Option(help: ArgumentHelp("Debug only: the rank that fails at --fail-at-step (default 0).", visibility: .hidden))
    var failRank: Int?

    /// Sets every option that was given on `config`.
    func apply(to config: inout TrainingConfig) throws {
        if let model { config.model = model }
        if let refModel { config.refModel = refModel }
        if let tokenizer { config.tokenizer = tokenizer }
        if let data { config.data = data }
        if let evalData { config.evalData = evalData }
        if let dataFormat { config.dataFormat = dataFormat }
        if let maxLength { config.maxLength = maxLength }
        if let truncationMode { config.truncationMode = truncationMode }
        if let chatTemplate { config.chatTemplate = chatTemplate }
        if let maxSamples { config.maxSamples = maxSamples }
        if let mixStrategy { config.mixStrategy = mixStrategy }
        if let interleaveProbs {
            config.interleaveProbs = try interleaveProbs.split(separator: ",").map { try Self.number(String($0), option: "interleave-probs") }
        }
        if let valSize { config.valSize = valSize }
        if let generateDuringEval { config.generateDuringEval = generateDuringEval }
        if let maxNewTokens { config.maxNewTokens = maxNewTokens }
        if let loss { config.loss = loss.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let lossWeights { config.lossWeights = try lossWeights.split(separator: ",").map { try Self.number(String($0), option: "loss-weights") } }
        if let beta { config.beta = beta }
        if let labelSmoothing { config.labelSmoothing = labelSmoothing }
        if let simpoGamma { config.simpoGamma = simpoGamma }
        if let referenceFree { config.referenceFree = referenceFree }
        if let discopopTau { config.discopopTau = discopopTau }
        if let fDivergenceType { config.fDivergenceType = fDivergenceType }
        if let fAlphaDivergenceCoef { config.fAlphaDivergenceCoef = fAlphaDivergenceCoef }
        if let ldAlpha { config.ldAlpha = ldAlpha }
        if let useWeighting { config.useWeighting = useWeighting }
        if let precomputeRef { config.precomputeRef = precomputeRef }
        if let precomputeRefBatchSize { config.precomputeRefBatchSize = precomputeRefBatchSize }
        if let syncRefModel { config.syncRefModel = syncRefModel }
        if let refModelMixupAlpha { config.refModelMixupAlpha = refModelMixupAlpha }
        if let refModelSyncSteps { config.refModelSyncSteps = refModelSyncSteps }
        if let refCacheDir { config.refCacheDir = refCacheDir }
        if let sharedPrompt { config.sharedPrompt = sharedPrompt }
        if let learningRate { config.learningRate = learningRate }
        if let lrScheduler { config.lrScheduler = lrScheduler }
        if let warmupSteps { config.warmupSteps = warmupSteps }
        if let warmupRatio { config.warmupRatio = warmupRatio }
        if let maxGradNorm { config.maxGradNorm = maxGradNorm }
        if let weightDecay { config.weightDecay = weightDecay }
        if let adamBeta1 { config.adamBeta1 = adamBeta1 }
        if let adamBeta2 { config.adamBeta2 = adamBeta2 }
        if let adamEpsilon { config.adamEpsilon = adamEpsilon }
        if let batchSize { config.batchSize = batchSize }
        if let microBatchSize { config.microBatchSize = microBatchSize }
        if let maxSteps { config.maxSteps = maxSteps }
        if let epochs { config.epochs = epochs }
        if let sftSteps { config.sftSteps = sftSteps }
        if let sftLearningRate { config.sftLearningRate = sftLearningRate }
        if let loggingSteps { config.loggingSteps = loggingSteps }
        if let evalSteps { config.evalSteps = evalSteps }
        if let saveSteps { config.saveSteps = saveSteps }
        if let saveTotalLimit { config.saveTotalLimit = saveTotalLimit }
        if let outputDir { config.outputDir = outputDir }
        if let overwriteOutputDir { config.overwriteOutputDir = overwriteOutputDir }
        if let seed { config.seed = seed }
        if let threads { config.threads = threads }
        if let zero { config.zero = zero }
        if let bucketCapMb { config.bucketCapMB = bucketCapMb }
        if let collectiveTimeout { config.collectiveTimeout = collectiveTimeout }
        if let gradCommDtype { config.gradCommDtype = gradCommDtype }
        if let bf16 { config.bf16 = bf16 }
        if let gradientCheckpointing { config.gradientCheckpointing = gradientCheckpointing }
        if let loraR { config.loraR = loraR }
        if let loraAlpha { config.loraAlpha = loraAlpha }
        if let loraTargets { config.loraTargets = loraTargets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let loraDropout { config.loraDropout = loraDropout }
        if let useRslora { config.useRslora = useRslora }
        if let adapter { config.adapter = adapter }
        if let debug { config.debug = debug }
        if let checkGradients { config.checkGradients = checkGradients }
        if let failAtStep { config.failAtStep = failAtStep }
        if let failRank { config.failRank = failRank }
    }

    /// Defaults, then the config file (or, with neither a config file nor `--data`, the
    /// embedded default `configs/default.yaml`), then these options; validated for `worldSize`
    /// ranks. `max_length`, when neither sets it, is min(1024, n_positions) of the models that
    /// score the run (the policy, `ref_model` and `scoredBy`), and it is refused above theirs.
    func resolved(configFile: String?, worldSize: Int, scoredBy extra: [String] = []) throws -> TrainingConfig {
        var config = TrainingConfig()
        var file = configFile
        if file == nil && data == nil { file = try DefaultConfig.path() }
        var explicitMaxLength = maxLength
        if let file {
            let fileOptions = try ConfigFile.options(path: file)
            try fileOptions.apply(to: &config)
            explicitMaxLength = explicitMaxLength ?? fileOptions.maxLength
        }
        try apply(to: &config)
        config.makePathsAbsolute()
        try config.validate(worldSize: worldSize)
        try config.adoptAdapterSettings()
        let models = try config.scoringModels() + extra.map { ($0, try RunInputs.modelConfig($0)) }
        if explicitMaxLength == nil {
            config.maxLength = ContextLength.defaultMaxLength(models: models.map(\.config))
        } else {
            try ContextLength.check(maxLength: config.maxLength, setting: "max_length", models: models)
        }
        return config
    }

    static func number(_ text: String, option: String) throws -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--\(option): \(text) is not a number")
        }
        return value
    }
}

extension LearningRateScheduleKind: ExpressibleByArgument {}
extension WireFormat: ExpressibleByArgument {}
extension MixStrategy: ExpressibleByArgument {}
extension FDivergence: ExpressibleByArgument {}
