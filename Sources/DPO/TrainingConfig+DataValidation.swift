import PreferenceData

extension TrainingConfig {
    /// Refuses data settings that contradict each other or cannot hold (part of `validate`):
    /// the mix of several files, `val_size`, `max_samples` and `generate_during_eval`.
    func validateDataSettings() throws {
        func fail(_ message: String) throws -> Never { throw TrainingError(message) }
        if let maxSamples, maxSamples < 1 { try fail("max_samples must be >= 1, got \(maxSamples)") }
        if let valSize {
            if let evalData {
                try fail("val_size and eval_data conflict: val_size holds out part of data for evaluation, yet eval_data "
                    + "names \(evalData); drop one")
            }
            if !(valSize > 0 && valSize.isFinite) || (valSize >= 1 && valSize != valSize.rounded()) {
                try fail("val_size must be a fraction in (0, 1) or a whole number of pairs >= 1, got \(valSize)")
            }
        }
        if let probabilities = interleaveProbs {
            if mixStrategy == .concat {
                try fail("interleave_probs needs mix_strategy interleave_under or interleave_over (mix_strategy is concat)")
            }
            let files = dataFiles.count
            if probabilities.count != files {
                try fail("interleave_probs has \(probabilities.count) entr\(probabilities.count == 1 ? "y" : "ies"), "
                    + "but data names \(files) file\(files == 1 ? "" : "s"): give one probability per file")
            }
            if let bad = probabilities.first(where: { !($0 >= 0 && $0.isFinite) }) {
                try fail("interleave_probs must be probabilities >= 0, got \(bad)")
            }
            let sum = probabilities.reduce(0, +)
            if abs(sum - 1) > 1e-8 {  // numpy's choice allows sqrt(float64 eps) = 1.5e-8
                try fail("interleave_probs must sum to 1, got \(probabilities.map { "\($0)" }.joined(separator: ",")) (sum \(sum))")
            }
            if mixStrategy == .interleaveOver, let zero = probabilities.firstIndex(of: 0) {
                try fail("interleave_over never ends when a file is never drawn: interleave_probs gives "
                    + "\(dataFiles[zero]) probability 0")
            }
        }
        if generateDuringEval < 0 { try fail("generate_during_eval must be >= 0 (0: none), got \(generateDuringEval)") }
        if generateDuringEval > 0 && evalData == nil && valSize == nil {
            try fail("generate_during_eval needs eval prompts: set eval_data or val_size")
        }
        if maxNewTokens < 1 { try fail("max_new_tokens must be >= 1, got \(maxNewTokens)") }
    }
}
