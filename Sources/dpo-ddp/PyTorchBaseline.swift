import Foundation

/// The PyTorch + transformers baseline of `dpo-ddp bench`: runs `scripts/bench_pytorch.py` (the
/// step TRL's DPOTrainer runs, on the same shapes and thread count) and reads its JSON line.
enum PyTorchBaseline {
    /// What the script reports.
    struct Result: Codable {
        var secondsPerStep: Double
        var pairsPerSecond: Double
        var tokensPerSecond: Double
        var peakRssBytes: Int
        var torch: String
        var transformers: String
        var threads: Int
        /// Whether it ran under torch.autocast to bfloat16.
        var bf16: Bool?
        /// Whether the policy ran with transformers' gradient checkpointing.
        var gradientCheckpointing: Bool?
    }

    /// Runs `python3 script arguments...`: the baseline, or why it is missing.
    static func run(script: String, arguments: [String]) -> Swift.Result<Result, PythonScript.Skipped> {
        PythonScript.run(script, arguments, hint: "--baseline-script")
    }
}
