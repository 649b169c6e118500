import Distributed
import Foundation
import GPT2
import PreferenceData

/// Every setting of a training run. Keys are the long command-line options in snake_case
/// (`learning_rate` for `--learning-rate`), so a YAML config and the command line say the same.
/// The resolved config is written into the run directory and into every checkpoint.
public struct TrainingConfig: Codable, Equatable, Sendable {
    /// Policy to start from: a Hugging Face checkpoint directory or a size name (`gpt2`, ...)
    /// for a randomly initialised model.
    public var model: String = "gpt2"
    /// Reference model directory; default: a frozen copy of the starting policy.
    public var refModel: String?
    /// Tokenizer directory; default: the model directory's files, else GPT-2's bundled files.
    public var tokenizer: String?
    /// Training preference pairs (JSON Lines or a JSON array); several files comma-separated
    /// (`dataFiles`), mixed as `mix_strategy` says.
    public var data: String = ""
    /// Held-out pairs for `eval_` metrics.
    public var evalData: String?
    /// Layout of the data rows; nil detects it from the first row.
    public var dataFormat: DataFormat?
    /// Most tokens in prompt + completion per sequence; at most the models' `n_positions`
    /// (the command line defaults it to min(1024, n_positions), see `ContextLength`).
    public var maxLength: Int = 1024
    /// Which end of a longer sequence is kept.
    public var truncationMode: TruncationMode = .keepStart
    /// Chat template file for conversational data; default: the plain template.
    public var chatTemplate: String?
    /// Use only the first N rows of each data set (LLaMA-Factory's `max_samples`); nil: all.
    public var maxSamples: Int?
    /// How several `data` files become one training set (LLaMA-Factory's `mix_strategy`).
    public var mixStrategy: MixStrategy = .concat
    /// One probability per `data` file for the interleaving strategies; nil: take them in turn.
    public var interleaveProbs: [Double]?
    /// Hold out part of `data` for evaluation when there is no `eval_data`: a fraction below 1 or
    /// a whole number of pairs (LLaMA-Factory's `val_size`); nil: none.
    public var valSize: Double?
    /// At each evaluation, greedy completions of the first N eval prompts by the policy and the
    /// reference, written to `OUTPUT_DIR/samples.jsonl`; 0: none.
    public var generateDuringEval: Int = 0
    /// Most new tokens per `generate_during_eval` completion.
    public var maxNewTokens: Int = 64

    /// Loss types, combined as a weighted sum.
    public var loss: [String] = ["sigmoid"]
    /// One weight per loss type; default all 1.
    public var lossWeights: [Double]?
    /// DPO temperature β.
    public var beta: Double = 0.1
    /// cDPO / robust label smoothing ε in [0, 0.5).
    public var labelSmoothing: Double = 0
    /// SimPO target margin γ.
    public var simpoGamma: Double = 0.5
    /// Treat the reference log-ratio as 0 (no reference model).
    public var referenceFree: Bool = false
    /// DiscoPOP's temperature τ (loss `discopop`).
    public var discopopTau: Double = 0.05
    /// f-divergence of f-DPO: `reverse_kl` (standard DPO), `forward_kl`, `js_divergence`, `alpha_divergence`.
    public var fDivergenceType: FDivergence = .reverseKL
    /// α of `alpha_divergence`.
    public var fAlphaDivergenceCoef: Double = 0.5
    /// LD-DPO's weight in [0, 1] of completion tokens beyond the shorter completion's length; nil: 1.
    public var ldAlpha: Double?
    /// WPO: weight each pair by its completions' length-normalised policy probabilities.
    public var useWeighting: Bool = false
    /// Compute reference log-probs once for the whole data set, cache them (see `ref_cache_dir`)
    /// and hold no reference model during training.
    public var precomputeRef: Bool = false
    /// TR-DPO: every `ref_model_sync_steps` DPO steps the reference becomes
    /// `ref_model_mixup_alpha`·policy + (1 − α)·reference (not with `precompute_ref`).
    public var syncRefModel: Bool = false
    /// TR-DPO's α in [0, 1]: the policy's share of the updated reference.
    public var refModelMixupAlpha: Double = 0.6
    /// TR-DPO's τ: DPO steps between reference updates.
    public var refModelSyncSteps: Int = 512
    /// Pairs per forward pass of `precompute_ref` on each rank (no backward: can exceed the
    /// training micro-batch); default: the training micro-batch size.
    public var precomputeRefBatchSize: Int?
    /// Where `precompute_ref` keeps its cache files; default: beside the data when that directory
    /// is writable, else the run directory.
    public var refCacheDir: String?
    /// Run each pair as `[prompt | chosen | rejected]`, computing the prompt once (same numbers,
    /// less work; see `ScoringOptions.sharedPrompt`).
    public var sharedPrompt: Bool = true

    /// Peak learning rate (TRL's default).
    public var learningRate: Double = 1e-6
    /// `constant`, `linear` (to 0 at the last step) or `cosine`.
    public var lrScheduler: LearningRateScheduleKind = .linear
    /// Steps of linear warm-up from 0; overrides `warmup_ratio` when positive.
    public var warmupSteps: Int = 0
    /// Warm-up as a fraction of the DPO steps.
    public var warmupRatio: Double = 0
    /// Global gradient-norm clip; 0 disables clipping.
    public var maxGradNorm: Double = 1.0
    /// Decoupled weight decay (not applied to biases and LayerNorm parameters).
    public var weightDecay: Double = 0
    /// AdamW β1.
    public var adamBeta1: Double = 0.9
    /// AdamW β2.
    public var adamBeta2: Double = 0.999
    /// AdamW ε.
    public var adamEpsilon: Double = 1e-8

    /// Pairs per optimiser step over all ranks.
    public var batchSize: Int = 8
    /// Pairs per rank per forward/backward; default `batch_size / ranks` (no accumulation).
    public var microBatchSize: Int?
    /// Optimiser steps of the DPO phase; default: `epochs` passes over the data.
    public var maxSteps: Int?
    /// Passes over the data when `max_steps` is not set.
    public var epochs: Double = 1
    /// Steps of supervised fine-tuning on the chosen answers before DPO (0: none). The DPO
    /// reference is then the policy at the end of this phase.
    public var sftSteps: Int = 0
    /// Learning rate of the SFT phase; default `learning_rate`.
    public var sftLearningRate: Double?

    /// Log metrics every N steps.
    public var loggingSteps: Int = 10
    /// Evaluate every N steps (and at the end) when `eval_data` is set; 0: only at the end.
    public var evalSteps: Int = 0
    /// Save a checkpoint every N steps (and at the end); 0: only at the end.
    public var saveSteps: Int = 500
    /// Keep at most K checkpoints (oldest removed first); nil keeps all.
    public var saveTotalLimit: Int?
    /// Run directory: metrics, checkpoints, final model, report.
    public var outputDir: String = "runs/dpo"
    /// Let a new (not resumed) run replace the checkpoints, metrics and models of an earlier run
    /// in `output_dir` (Hugging Face's name); without it such a run is refused.
    public var overwriteOutputDir: Bool = false
    /// Seed of the data order (and of random initialisation for size names).
    public var seed: Int = 42
    /// Threads for the memory-bound kernels per rank; default cores / ranks.
    public var threads: Int?
    /// ZeRO stage: 0 keeps AdamW's moments of every parameter on every rank; 1 shards them (and
    /// the update) over the ranks, all-gathering the weights after each step; 2 also reduces each
    /// micro-batch's gradient to the rank owning it, which keeps only its shard.
    public var zero: Int = 0
    /// MiB of gradient per all-reduce bucket started during the backward pass (PyTorch DDP's
    /// `bucket_cap_mb`); 0 reduces the whole gradient in one go after the backward pass.
    public var bucketCapMB: Double = 25
    /// Seconds a rank may wait in one collective (an all-reduce, a broadcast, ...) for the other
    /// ranks before it ends the job naming the ranks that did not arrive; 0 waits forever.
    public var collectiveTimeout: Double = 1800
    /// How gradient buckets travel between ranks: fp32, or bf16 (half the bytes; each addition
    /// of the reduction in float32, rounded to bfloat16).
    public var gradCommDtype: WireFormat = .fp32
    /// Matmuls with bfloat16 inputs and float32 accumulation, as PyTorch's bf16 autocast (TRL's
    /// `bf16`); weights, gradients, AdamW and every other op stay float32 (see docs/training.md).
    public var bf16: Bool = false
    /// Activation checkpointing (TRL's `gradient_checkpointing`): keep only each block's input in
    /// the forward pass and recompute the block's activations in the backward pass; bit-identical
    /// results for less memory and a longer step (see docs/training.md).
    public var gradientCheckpointing: Bool = false

    /// LoRA rank r (PEFT's `r`): train a low-rank adapter on the `lora_targets` layers while the
    /// model's own weights stay frozen; 0 trains every weight (see docs/lora.md). With `adapter`
    /// it is read from the adapter (0 here: take it from there).
    public var loraR: Int = 0
    /// LoRA's alpha: the adapter's output is scaled by alpha / r (alpha / sqrt(r) with
    /// `use_rslora`); nil: 2r, or the `adapter`'s.
    public var loraAlpha: Double?
    /// PEFT's `target_modules`: the GPT-2 Conv1D layers that get an adapter (`c_proj` names both
    /// projections); nil: c_attn, c_proj, c_fc, or the `adapter`'s.
    public var loraTargets: [String]?
    /// Dropout probability on the adapter's input while training; nil: 0, or the `adapter`'s.
    public var loraDropout: Double?
    /// rsLoRA: scale by alpha / sqrt(r) instead of alpha / r; nil: false, or the `adapter`'s.
    public var useRslora: Bool?
    /// A PEFT adapter directory (`adapter_config.json` + `adapter_model.safetensors`) to continue
    /// training; its settings are the run's LoRA settings, and the DPO reference is the model
    /// with a frozen copy of it (TRL's rule, docs/lora.md).
    public var adapter: String?

    /// NaN/Inf checks after every layer, single-threaded deterministic kernels, a line per micro-batch.
    public var debug: Bool = false
    /// Finite-difference gradient check on the first step.
    public var checkGradients: Bool = false
    /// Debug only: make rank `fail_rank` fail at this step (to test that a failure ends the job).
    public var failAtStep: Int?
    /// Debug only: the rank that fails at `fail_at_step`.
    public var failRank: Int = 0

    /// A configuration with every default.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, refModel = "ref_model", tokenizer, data, evalData = "eval_data", dataFormat = "data_format"
        case maxLength = "max_length", truncationMode = "truncation_mode", chatTemplate = "chat_template"
        case maxSamples = "max_samples", mixStrategy = "mix_strategy", interleaveProbs = "interleave_probs", valSize = "val_size"
        case generateDuringEval = "generate_during_eval", maxNewTokens = "max_new_tokens"
        case loss, lossWeights = "loss_weights", beta, labelSmoothing = "label_smoothing"
        case simpoGamma = "simpo_gamma", referenceFree = "reference_free", precomputeRef = "precompute_ref"
        case discopopTau = "discopop_tau", fDivergenceType = "f_divergence_type"
        case fAlphaDivergenceCoef = "f_alpha_divergence_coef", ldAlpha = "ld_alpha", useWeighting = "use_weighting"
        case precomputeRefBatchSize = "precompute_ref_batch_size"
        case syncRefModel = "sync_ref_model", refModelMixupAlpha = "ref_model_mixup_alpha", refModelSyncSteps = "ref_model_sync_steps"
        case refCacheDir = "ref_cache_dir"
        case sharedPrompt = "shared_prompt"
        case learningRate = "learning_rate", lrScheduler = "lr_scheduler", warmupSteps = "warmup_steps"
        case warmupRatio = "warmup_ratio", maxGradNorm = "max_grad_norm", weightDecay = "weight_decay"
        case adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", adamEpsilon = "adam_epsilon"
        case batchSize = "batch_size", microBatchSize = "micro_batch_size", maxSteps = "max_steps", epochs
        case sftSteps = "sft_steps", sftLearningRate = "sft_learning_rate"
        case loggingSteps = "logging_steps", evalSteps = "eval_steps", saveSteps = "save_steps"
        case saveTotalLimit = "save_total_limit", outputDir = "output_dir", overwriteOutputDir = "overwrite_output_dir"
        case seed, threads
        case zero, bucketCapMB = "bucket_cap_mb"
        case collectiveTimeout = "collective_timeout", gradCommDtype = "grad_comm_dtype"
        case bf16
        case gradientCheckpointing = "gradient_checkpointing"
        case loraR = "lora_r", loraAlpha = "lora_alpha", loraTargets = "lora_targets", loraDropout = "lora_dropout"
        case useRslora = "use_rslora", adapter
        case debug, checkGradients = "check_gradients", failAtStep = "fail_at_step", failRank = "fail_rank"
    }

    /// The snake_case names of every setting (the YAML keys).
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }
}

extension TrainingConfig {
    /// The files of `data`: one, or several comma-separated.
    public var dataFiles: [String] {
        data.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// How micro-batches are laid out for the forward passes.
    public var scoringOptions: ScoringOptions { ScoringOptions(sharedPrompt: sharedPrompt) }

    /// The loss settings of the DPO phase.
    public var lossSettings: LossSettings {
        LossSettings(types: loss.compactMap(LossType.init(rawValue:)), weights: lossWeights, beta: beta,
                     labelSmoothing: labelSmoothing, simpoGamma: simpoGamma, referenceFree: referenceFree,
                     discopopTau: discopopTau, fDivergence: fDivergenceType, fAlphaDivergenceCoef: fAlphaDivergenceCoef,
                     ldAlpha: ldAlpha, useWeighting: useWeighting)
    }

    /// AdamW's hyper-parameters.
    public var adamWSettings: AdamWSettings {
        AdamWSettings(beta1: Float(adamBeta1), beta2: Float(adamBeta2), epsilon: Float(adamEpsilon),
                      weightDecay: Float(weightDecay))
    }
}

extension TrainingConfig {
    /// Resolves every relative path against the current directory, so the resolved config
    /// (written into the run directory and checkpoints) means the same from anywhere.
    public mutating func makePathsAbsolute() {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : cwd.appendingPathComponent(path).standardizedFileURL.path
        }
        if GPT2Config.named(model) == nil { model = absolute(model) }
        refModel = refModel.map(absolute)
        tokenizer = tokenizer.map(absolute)
        if !data.isEmpty { data = dataFiles.map(absolute).joined(separator: ",") }
        evalData = evalData.map(absolute)
        chatTemplate = chatTemplate.map(absolute)
        refCacheDir = refCacheDir.map(absolute)
        adapter = adapter.map(absolute)
        outputDir = absolute(outputDir)
    }
}
