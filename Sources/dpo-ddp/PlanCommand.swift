import ArgumentParser
import DPO
import Foundation
import GPT2

/// `dpo-ddp plan`: the memory one rank of a training run needs, by component, without running it.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Estimate the memory per rank of a training run (weights, gradients, AdamW, reference, activations, ...).",
        discussion: """
            Takes train's settings (a --config file and/or its options; only those that size memory \
            matter: --model, --max-length, --micro-batch-size, --zero, --gradient-checkpointing, \
            --precompute-ref, --bf16, --bucket-cap-mb, --lora-r, --lora-targets, --adapter, ...) and --ranks. Micro-batches are planned at \
            their largest (every sequence --max-length tokens) unless --prompt-length and \
            --completion-length give the exact pair shape. Prints a per-rank table, the totals and \
            whether a node of --memory-gb holds --ranks-per-node ranks, then one JSON line with \
            every number. The formulas and their check against measured peak RSS: docs/memory.md.

            Examples:
              dpo-ddp plan --model gpt2-medium --max-length 512 --micro-batch-size 2
              dpo-ddp plan --model gpt2-xl --max-length 1024 --micro-batch-size 1 --ranks 8 --zero 2 \\
                --gradient-checkpointing --precompute-ref
              dpo-ddp plan --model gpt2-xl --lora-r 16 --max-length 1024 --micro-batch-size 1 --gradient-checkpointing
            """)

    @Option(help: ArgumentHelp("YAML file of train settings (snake_case option names).", valueName: "file"))
    var config: String?

    @Option(help: "Ranks of the job (default 1).")
    var ranks = 1

    @Option(help: "Ranks sharing one node's memory (default: all --ranks).")
    var ranksPerNode: Int?

    @Option(help: "Memory of one node in GB (default: this machine's, or \(NodeMemory.overrideVariable)).")
    var memoryGb: Double?

    @Option(help: "Plan pairs of exactly this many prompt tokens (with --completion-length) instead of the longest --max-length allows.")
    var promptLength: Int?

    @Option(help: "Plan completions of exactly this many tokens (with --prompt-length).")
    var completionLength: Int?

    @OptionGroup(title: "Training settings")
    var options: TrainOptions

    func validate() throws {
        guard ranks >= 1 else { throw ValidationError("--ranks must be at least 1, got \(ranks)") }
        if let ranksPerNode, !(1...ranks).contains(ranksPerNode) {
            throw ValidationError("--ranks-per-node must be in 1...\(ranks) (--ranks), got \(ranksPerNode)")
        }
        if let memoryGb, !(memoryGb > 0) { throw ValidationError("--memory-gb must be above 0, got \(memoryGb)") }
        guard (promptLength == nil) == (completionLength == nil) else {
            throw ValidationError("--prompt-length and --completion-length go together")
        }
        if let promptLength, let completionLength, promptLength < 1 || completionLength < 1 {
            throw ValidationError("--prompt-length and --completion-length must be at least 1")
        }
    }

    func run() throws {
        let settings = try planSettings()
        let plan = MemoryPlan(settings)
        let memory = try memoryGb.map { (bytes: Int($0 * 1e9), source: "--memory-gb") } ?? NodeMemory.bytes()
        let local = ranksPerNode ?? ranks
        let layout = GPT2Layout(settings.policy)
        print("dpo-ddp plan: \(settings.policy.shapeDescription) (\(layout.count) parameters), \(ranks) rank(s), "
            + "micro-batch of \(settings.shape.rows) packed rows, \(settings.shape.targets) logits rows")
        plan.table.forEach { print($0) }
        var json: [String: Any] = plan.numbers
        if let memory {
            let needed = plan.nodeBytes(localRanks: local)
            let fits = needed <= memory.bytes
            print("node of \(MemoryPlan.gigabytes(memory.bytes)) (\(memory.source)) with \(local) rank(s): needs "
                + "\(MemoryPlan.gigabytes(needed)): " + (fits ? "fits" : "does not fit"))
            json["memory_bytes"] = memory.bytes
            json["node_bytes"] = needed
            json["fits"] = fits
        }
        json["ranks_per_node"] = local
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Train's settings as `train` resolves them (defaults, the config file, the options; not the
    /// embedded default run), then the memory plan's inputs.
    func planSettings() throws -> MemoryPlanSettings {
        var config = TrainingConfig()
        var explicitMaxLength = options.maxLength
        if let file = self.config {
            let fileOptions = try ConfigFile.options(path: file)
            try fileOptions.apply(to: &config)
            explicitMaxLength = explicitMaxLength ?? fileOptions.maxLength
        }
        try options.apply(to: &config)
        try config.adoptAdapterSettings()
        if options.microBatchSize == nil && config.microBatchSize == nil {
            config.microBatchSize = max(1, config.batchSize / ranks)
        }
        guard (0...2).contains(config.zero) else { throw ValidationError("--zero must be 0, 1 or 2, got \(config.zero)") }
        if let micro = config.microBatchSize, micro < 1 {
            throw ValidationError("--micro-batch-size must be at least 1, got \(micro)")
        }
        let models = try config.scoringModels()
        if explicitMaxLength == nil {
            config.maxLength = ContextLength.defaultMaxLength(models: models.map(\.config))
        } else {
            try ContextLength.check(maxLength: config.maxLength, setting: "max_length", models: models)
        }
        var settings = try MemoryPlanSettings(config: config, ranks: ranks)
        if let promptLength, let completionLength {
            guard promptLength + completionLength <= config.maxLength else {
                throw ValidationError("--prompt-length \(promptLength) + --completion-length \(completionLength) "
                    + "exceed max_length \(config.maxLength)")
            }
            settings.shape = .pairs(config.microBatchSize!, promptTokens: promptLength, completionTokens: completionLength,
                                    sharedPrompt: config.sharedPrompt)
            // The precompute always shares prompts (`ReferenceCache.compute`).
            settings.precomputeShape = .pairs(config.precomputeRefBatchSize ?? config.microBatchSize!, promptTokens: promptLength,
                                              completionTokens: completionLength)
        }
        return settings
    }
}
