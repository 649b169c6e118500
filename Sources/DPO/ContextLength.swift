import GPT2

/// `max_length` against the models' context (`n_positions`): a sequence longer than the position
/// embedding cannot be scored, so the setting is checked before any work instead of failing at
/// whatever step the first long pair comes up.
public enum ContextLength {
    /// `max_length` when the user gives none: 1024 (TRL's default), or less for a model with a
    /// shorter context.
    public static func defaultMaxLength(models: [GPT2Config]) -> Int {
        models.map(\.nPositions).reduce(1024, min)
    }

    /// Refuses `maxLength` above the `n_positions` of any of `models` (each a name for messages
    /// and its shape), naming both numbers.
    public static func check(maxLength: Int, setting: String, models: [(name: String, config: GPT2Config)]) throws {
        for (name, config) in models where maxLength > config.nPositions {
            throw TrainingError("\(setting) \(maxLength) exceeds the n_positions \(config.nPositions) of model \(name): "
                + "its sequences could not be scored; use \(setting) \(config.nPositions) or less")
        }
    }
}

extension TrainingConfig {
    /// The models that score this run's sequences: the policy and, when set, `ref_model`.
    public func scoringModels() throws -> [(name: String, config: GPT2Config)] {
        try ([model] + (refModel.map { [$0] } ?? [])).map { ($0, try RunInputs.modelConfig($0)) }
    }

    /// Checks `max_length` against every model that scores this run (see `ContextLength`).
    public func checkMaxLength() throws {
        try ContextLength.check(maxLength: maxLength, setting: "max_length", models: scoringModels())
    }
}
