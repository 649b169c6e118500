import Foundation
/// Everything besides weights and optimiser moments that a resumed run needs to continue exactly
/// where the saved one stopped. Stored as `trainer_state.json` in each checkpoint.
public struct TrainerState: Codable, Equatable, Sendable {
    /// Optimiser steps completed, SFT and DPO phases together.
    public var step: Int = 0
    /// Epoch of the next step's pairs.
    public var epoch: Int = 0
    /// Position of the next step's first pair in that epoch's shuffled order (a global index
    /// into the order, independent of the number of ranks).
    public var position: Int = 0
    /// AdamW's step count in the current phase (its bias corrections).
    public var optimizerSteps: Int = 0
    /// Non-padding tokens of every pair trained on so far (TRL's cumulative `num_tokens`).
    public var tokensSeen: Double = 0
    /// Statistics of the steps since the last logged step.
    public var pendingStatistics: [Double] = StepStatistics().values
    /// Number of steps in `pendingStatistics`.
    public var pendingSteps: Int = 0
    /// Forward passes of a LoRA policy that dropped out its adapter's input so far (with the seed,
    /// what fixes the masks: `GPT2Model.adapterDropoutPasses`), so a resumed run draws the masks the
    /// uninterrupted run draws.
    public var adapterDropoutPasses: UInt64 = 0
    /// Ranks of the run that saved it (informational: a run may resume on any number).
    public var worldSize: Int = 1
    /// The resolved configuration of the run.
    public var config: TrainingConfig

    /// The state at the start of a run.
    public init(config: TrainingConfig, worldSize: Int) {
        self.config = config
        self.worldSize = worldSize
    }

    enum CodingKeys: String, CodingKey {
        case step, epoch, position, optimizerSteps = "optimizer_steps", tokensSeen = "tokens_seen"
        case pendingStatistics = "pending_statistics", pendingSteps = "pending_steps"
        case adapterDropoutPasses = "adapter_dropout_passes"
        case worldSize = "world_size", config
    }
}

extension TrainerState {
    /// Settings a resumed run may change: they do not alter the math of a step (how the global
    /// batch is split, threads, how gradients and optimiser state are spread over ranks, logging
    /// and saving, where the data lives, the step budget). The model and the reference model are
    /// not among them: they define what is trained and what it is compared against.
    public static let resumableChanges: Set<String> = [
        "micro_batch_size", "threads", "zero", "bucket_cap_mb", "collective_timeout", "grad_comm_dtype", "debug", "check_gradients", "logging_steps", "eval_steps",
        "save_steps", "save_total_limit", "output_dir", "overwrite_output_dir", "ref_cache_dir", "max_steps", "epochs", "data", "eval_data",
        "tokenizer", "chat_template", "fail_at_step", "fail_rank",
        "generate_during_eval", "max_new_tokens",
        "gradient_checkpointing",  // the same numbers, bit for bit: only the memory and the time change
    ]

    /// Refuses to resume a run whose settings differ from the saved run's in a way that changes
    /// the training (anything but `resumableChanges`), listing the differences.
    public static func checkResumable(saved: TrainingConfig, now: TrainingConfig) throws {
        let encoder = JSONEncoder()
        func fields(_ config: TrainingConfig) throws -> [String: String] {
            let object = try JSONSerialization.jsonObject(with: encoder.encode(config)) as? [String: Any] ?? [:]
            return object.mapValues { "\($0)" }
        }
        let before = try fields(saved), after = try fields(now)
        let changed = Set(before.keys).union(after.keys).subtracting(resumableChanges)
            .filter { before[$0] != after[$0] }.sorted()
        guard changed.isEmpty else {
            throw TrainingError("cannot resume: the checkpoint was trained with different "
                + changed.map { "\($0) (\(before[$0] ?? "unset") -> \(after[$0] ?? "unset"))" }.joined(separator: ", "))
        }
    }
}

extension TrainerState {
    /// Reads `trainer_state.json`. Fields and settings added to `TrainerState` and `TrainingConfig`
    /// after the checkpoint was written take their defaults (an older build's checkpoint resumes);
    /// unknown or mistyped values are still refused by the decoder.
    static func decode(_ data: Data) throws -> TrainerState {
        guard var stored = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let config = stored["config"] as? [String: Any],
              let defaults = try JSONSerialization.jsonObject(with: JSONEncoder().encode(TrainingConfig())) as? [String: Any],
              let stateDefaults = try JSONSerialization.jsonObject(
                  with: JSONEncoder().encode(TrainerState(config: TrainingConfig(), worldSize: 1))) as? [String: Any]
        else { return try JSONDecoder().decode(TrainerState.self, from: data) }
        stored = stateDefaults.merging(stored) { _, saved in saved }
        stored["config"] = defaults.merging(config) { _, saved in saved }
        return try JSONDecoder().decode(TrainerState.self, from: JSONSerialization.data(withJSONObject: stored))
    }
}
