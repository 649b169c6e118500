import ArgumentParser
import DPO
import Distributed
import FileErrors
import Foundation
import GPT2
import Kernels

/// `dpo-ddp bench`: the cost of one DPO optimiser step, ours next to PyTorch + transformers on
/// the same shapes, against the float32 and bfloat16 matmul ceilings measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one DPO optimiser step on synthetic pairs, next to a PyTorch baseline and the matmul ceilings.",
        discussion: """
            Our step is what `dpo-ddp train` runs for one optimiser step (policy forward and backward \
            over [chosen; rejected] rows, reference log-probs, sigmoid DPO loss, gradient reduction \
            in buckets overlapping backward, clipping, AdamW; with --zero 1 sharded AdamW and a weight \
            all-gather, with --zero 2 also the gradient reduced to its owners and kept sharded) on seeded random pairs: a shared prompt of --prompt-tokens and two completions \
            of --completion-tokens. Under mpirun every rank runs --pairs pairs. The baseline is \
            scripts/bench_pytorch.py (TRL's step in plain PyTorch), run without mpirun only. \
            Effective GFLOP/s counts the work of a plain implementation (see docs/benchmarks.md). \
            With --lora-r only a fresh LoRA adapter trains (the reference is the base, sharing its weights); \
            --compare-full then times full fine-tuning too and prints both rows and the ratio. \
            The last line is one JSON object with every number.

            Examples:
              dpo-ddp bench
              dpo-ddp bench --full-logits --no-shared-prompt
              dpo-ddp bench --precompute-ref --no-baseline
              dpo-ddp bench --bf16
              dpo-ddp bench --model gpt2-medium --gradient-checkpointing --no-baseline
              OPENBLAS_NUM_THREADS=1 mpirun -np 2 dpo-ddp bench
              OPENBLAS_NUM_THREADS=1 mpirun -np 2 dpo-ddp bench --no-baseline --zero 1
              OPENBLAS_NUM_THREADS=1 mpirun -np 2 dpo-ddp bench --no-baseline --zero 2
              dpo-ddp bench --lora-r 16 --compare-full --no-baseline
            """)

    @Option(help: "Policy: a size name (gpt2, gpt2-medium, gpt2-mini, ...) or a checkpoint directory.")
    var model = "gpt2"

    @Option(help: "Pairs per rank per step.")
    var pairs = 2

    @Option(help: "Prompt tokens of each pair (shared by both completions).")
    var promptTokens = 64

    @Option(help: "Tokens of each completion.")
    var completionTokens = 64

    @Option(help: "Timed steps; the median is reported.")
    var steps = 4

    @Option(help: "Untimed steps first.")
    var warmup = 1

    @Flag(help: "Project every position onto the vocabulary (as a plain implementation does), not only completion positions.")
    var fullLogits = false

    @Flag(help: "Run chosen and rejected as two full sequences each (as a plain implementation does), not [prompt | chosen | rejected] with the prompt computed once.")
    var noSharedPrompt = false

    @Flag(help: "Compute the reference log-probs once before timing (reported separately); no reference forward in the step.")
    var precomputeRef = false

    @Option(help: "ZeRO stage, as `train --zero`: 0 (default), 1 (AdamW's moments and update sharded over ranks) or 2 (the gradient too).")
    var zero = 0

    @Option(help: "MiB of gradient per all-reduce bucket, as `train --bucket-cap-mb` (default 25; 0: one after backward).")
    var bucketCapMb = 25.0

    @Option(help: "How gradient buckets travel between ranks, as `train --grad-comm-dtype`: fp32 (default) or bf16.")
    var gradCommDtype = WireFormat.fp32

    @Option(help: "Predict the communication time per step over a link of this many Gbit/s from the bytes sent per step.")
    var linkGbps: Double?

    @Option(help: "Threads per rank (default cores / ranks).")
    var threads: Int?

    @Option(help: "Seed of the weights and of the token ids.")
    var seed = 42

    @Option(help: "The PyTorch baseline script.")
    var baselineScript = "scripts/bench_pytorch.py"

    @Flag(help: "Skip the PyTorch baseline.")
    var noBaseline = false

    @Flag(help: "Our step as `train --bf16` (bfloat16 matmul inputs), the baseline under torch.autocast to bfloat16.")
    var bf16 = false

    @Flag(help: "Our policy as `train --gradient-checkpointing` (recomputes each block's activations in backward), the baseline with transformers' gradient checkpointing.")
    var gradientCheckpointing = false

    @Option(help: "Train a fresh LoRA adapter of rank r, as `train --lora-r` (default 0: every weight).")
    var loraR = 0

    @Option(help: "LoRA alpha, as `train --lora-alpha` (default 2r).")
    var loraAlpha: Double?

    @Option(help: "Comma-separated LoRA targets, as `train --lora-targets` (default c_attn,c_proj,c_fc).")
    var loraTargets: String?

    @Flag(help: "With --lora-r: then time full fine-tuning of the same model in the same run, and print both rows and the ratio.")
    var compareFull = false

    func validate() throws {
        for (name, value) in [("pairs", pairs), ("prompt-tokens", promptTokens), ("completion-tokens", completionTokens),
                              ("steps", steps)] where value < 1 {
            throw ValidationError("--\(name) must be at least 1, got \(value)")
        }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard [0, 1, 2].contains(zero) else { throw ValidationError("--zero must be 0, 1 or 2, got \(zero)") }
        guard bucketCapMb >= 0 else { throw ValidationError("--bucket-cap-mb must be at least 0, got \(bucketCapMb)") }
        if let linkGbps, !(linkGbps > 0) { throw ValidationError("--link-gbps must be above 0, got \(linkGbps)") }
        guard loraR >= 0 else { throw ValidationError("--lora-r must be at least 0 (0: every weight trains), got \(loraR)") }
        if loraR == 0, loraAlpha != nil || loraTargets != nil || compareFull {
            throw ValidationError("--lora-alpha, --lora-targets and --compare-full need --lora-r")
        }
        do {
            try loraSettings?.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        let communicator = try CommunicatorFactory.make()
        do {
            let result = try measure(communicator: communicator)
            if communicator.rank == 0 {
                result.table.forEach { print($0) }
                print(result.json)
            }
            try communicator.finalize()
        } catch {
            communicator.abort(message: FileError.message(for: error), code: 1)
        }
    }

    /// One configuration being timed (a LoRA adapter or full fine-tuning): its step, its memory
    /// plan and this rank's timed steps so far.
    final class Configuration {
        let bench: DPOStepBench
        let plan: MemoryPlan
        let traffic: GradientTraffic
        /// This rank's timed steps.
        var times: [(seconds: Double, allReduceSeconds: Double)] = []
        /// Bytes this rank sent in the timed steps.
        var sent = 0

        init(bench: DPOStepBench, plan: MemoryPlan, traffic: GradientTraffic) {
            self.bench = bench
            self.plan = plan
            self.traffic = traffic
        }

        /// Runs and times one step.
        func timeStep(_ communicator: any Communicator) throws {
            let before = communicator.bytesSent
            times.append(try bench.step())
            sent += communicator.bytesSent - before
        }

        /// Per rank: median s/step, median communication s/step, `rss`, optimiser state bytes.
        func gathered(rss: Int, _ communicator: any Communicator) throws -> [[Double]] {
            let values = [BenchCommand.median(times.map(\.seconds)), BenchCommand.median(times.map(\.allReduceSeconds)),
                          Double(rss), Double(bench.optimizer.adamW.stateBytes)]
            return try values.map { try BenchCommand.gather($0, communicator) }
        }
    }

    /// Our steps, then the ceiling (all ranks at once), then on rank 0 the baseline. With
    /// --compare-full, full fine-tuning is set up after the LoRA configuration's warm-up (whose
    /// peak RSS is measured then, alone) and the timed steps alternate between the two, so both
    /// see the same load on the machine; full fine-tuning's peak RSS is its memory plan's estimate.
    func measure(communicator: any Communicator) throws -> BenchResult {
        let ranks = communicator.size, isRoot = communicator.rank == 0
        KernelThreads.set(threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / ranks))
        let shape = BenchShape(pairs: pairs, promptTokens: promptTokens, completionTokens: completionTokens)
        let options = ScoringOptions(sharedPrompt: !noSharedPrompt, fullLogits: fullLogits)
        let main = try configuration(lora: loraSettings, shape: shape, options: options, communicator: communicator)
        let alonePeak = Self.peakRSSBytes()
        let full = compareFull ? try configuration(lora: nil, shape: shape, options: options, communicator: communicator) : nil
        let faultsBefore = Self.resourceUsage().ru_minflt
        for _ in 0..<steps {
            try main.timeStep(communicator)
            try full?.timeStep(communicator)
        }
        let faults = Double(Self.resourceUsage().ru_minflt - faultsBefore) / Double(steps)
        let perRank = try main.gathered(rss: full == nil ? Self.peakRSSBytes() : alonePeak, communicator)
        let fullPerRank = try full?.gathered(rss: full!.plan.stepBytes, communicator)
        let kernels = MatmulBackends.kernelsInUse
        try communicator.barrier()
        let f32Ceiling = try Self.sum(MatmulBenchmark.ceiling(bf16: false), communicator)
        let bf16Ceiling = try Self.sum(MatmulBenchmark.ceiling(bf16: true), communicator)
        let ceiling = bf16 ? bf16Ceiling : f32Ceiling
        let slowest = perRank[0].max()!
        let config = main.bench.policy.config
        let flops = StepFLOPs(config: config)
        let plain = flops.policy(tokens: shape.tokens, scoredPositions: shape.tokens)
            + flops.reference(tokens: shape.tokens, scoredPositions: shape.tokens)
        let rows = noSharedPrompt ? shape.tokens : shape.sharedPromptRows
        let scored = fullLogits ? rows : shape.completionPositions
        let executed = flops.policy(tokens: rows, scoredPositions: scored)
            + (precomputeRef ? 0 : flops.reference(tokens: rows, scoredPositions: scored))
        let sentPerStep = main.sent / steps
        var result = BenchResult(
            model: model, blasCore: BLASCore.current, ranks: ranks, threadsPerRank: KernelThreads.count,
            pairsPerRank: pairs, promptTokens: promptTokens, completionTokens: completionTokens, fullLogits: fullLogits,
            sharedPrompt: !noSharedPrompt, precomputeRef: precomputeRef, zero: zero, bucketCapMb: bucketCapMb,
            warmupSteps: warmup, steps: steps, stepSeconds: main.times.map(\.seconds),
            secondsPerStep: slowest,
            pairsPerSecond: Double(pairs * ranks) / slowest, tokensPerSecond: Double(shape.tokens * ranks) / slowest,
            effectiveGflopPerStep: plain * Double(ranks) / 1e9, executedGflopPerStep: executed * Double(ranks) / 1e9,
            effectiveGflops: plain * Double(ranks) / slowest / 1e9, executedGflops: executed * Double(ranks) / slowest / 1e9,
            bf16: bf16, sgemmCeilingGflops: f32Ceiling, bf16CeilingGflops: bf16Ceiling,
            percentOfCeiling: 100 * plain * Double(ranks) / slowest / 1e9 / ceiling,
            executedPercentOfCeiling: 100 * executed * Double(ranks) / slowest / 1e9 / ceiling, matmulKernels: kernels,
            peakRssBytes: Int(perRank[2].reduce(0, +)), pageFaultsPerStep: faults,
            allreduceSecondsPerStep: perRank[1].max()!,
            gradCommDtype: gradCommDtype.rawValue, bytesSentPerStep: sentPerStep, linkGbps: linkGbps,
            predictedCommunicationSeconds: linkGbps.map { Double(sentPerStep) * 8 / ($0 * 1e9) },
            optimizerStateBytes: Int(perRank[3].max()!),
            referencePrecomputeSeconds: main.bench.precomputeSeconds,
            estimatedBytes: Dictionary(uniqueKeysWithValues: main.plan.components.map { ($0.name, $0.bytes) }),
            estimatedPerRankBytes: main.plan.stepBytes, policyActivationBytes: main.bench.policy.allocatedActivationBytes,
            perRank: (0..<ranks).map { r in
                BenchResult.Rank(rank: r, secondsPerStep: perRank[0][r], pairsPerSecond: Double(pairs) / perRank[0][r],
                                 allreduceSecondsPerStep: perRank[1][r], peakRssBytes: Int(perRank[2][r]),
                                 optimizerStateBytes: Int(perRank[3][r]))
            })
        result.gradientCheckpointing = gradientCheckpointing
        result.setTraffic(main.traffic)
        result.loraR = loraR
        if loraR > 0 {
            result.fullModelPayloadBytes = GradientTraffic(gradientElements: main.bench.policy.layout.count, ranks: ranks,
                                                           zero: zero, wire: gradCommDtype).payloadBytes
        }
        if let full, let fullPerRank {
            let seconds = fullPerRank[0].max()!
            result.fullModel = BenchResult.FullModel(
                secondsPerStep: seconds, stepSeconds: full.times.map(\.seconds), pairsPerSecond: Double(pairs * ranks) / seconds,
                estimatedPeakRssBytes: Int(fullPerRank[2].reduce(0, +)), optimizerStateBytes: Int(fullPerRank[3].max()!),
                allreduceSecondsPerStep: fullPerRank[1].max()!, bytesSentPerStep: full.sent / steps,
                gradientElements: full.traffic.gradientElements, allreducePayloadBytes: full.traffic.payloadBytes,
                allreduceBytesPerRank: full.traffic.sentBytes)
            result.fullOverLoraSeconds = seconds / slowest
        }
        if isRoot { baseline(into: &result, config: config) }
        return result
    }

    /// `--lora-r`'s adapter settings, or nil without LoRA.
    var loraSettings: LoRASettings? {
        guard loraR > 0 else { return nil }
        return LoRASettings(rank: loraR, alpha: loraAlpha ?? Double(2 * loraR),
                            targets: loraTargets?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                                ?? LoRASettings.defaultTargets)
    }

    /// Sets up one configuration (a LoRA adapter of `lora`, or full fine-tuning), prints its
    /// header on rank 0 and runs its warm-up steps.
    func configuration(lora: LoRASettings?, shape: BenchShape, options: ScoringOptions,
                       communicator: any Communicator) throws -> Configuration {
        let ranks = communicator.size
        let bench = try DPOStepBench(model: model, shape: shape, options: options, precomputeRef: precomputeRef, bf16: bf16,
                                     zero: zero, bucketElements: GradientReducer.bucketElements(megabytes: bucketCapMb),
                                     wire: gradCommDtype, seed: seed, gradientCheckpointing: gradientCheckpointing, lora: lora,
                                     communicator: communicator)
        if communicator.rank == 0 {
            print(header(config: bench.policy.config, flops: StepFLOPs(config: bench.policy.config), ranks: ranks,
                         precompute: bench.precomputeSeconds, lora: lora))
        }
        for _ in 0..<warmup { _ = try bench.step() }
        return Configuration(bench: bench, plan: memoryPlan(bench: bench, options: options, ranks: ranks, lora: lora),
                             traffic: GradientTraffic(gradientElements: bench.policy.trainableLayout.count, ranks: ranks,
                                                      zero: zero, wire: gradCommDtype))
    }

    /// The estimate of this step's memory per rank: the policy and its activations at this rank's
    /// packed shape; the reference a frozen model, or with --precompute-ref none (the bench scores
    /// the pairs with the policy itself).
    func memoryPlan(bench: DPOStepBench, options: ScoringOptions, ranks: Int, lora: LoRASettings?) -> MemoryPlan {
        MemoryPlan(MemoryPlanSettings(policy: bench.policy.config, ranks: ranks,
                                      shape: ForwardShape(ScoringInput(bench.batch, options: options).input),
                                      zero: zero, gradientCheckpointing: gradientCheckpointing, bf16: bf16,
                                      reference: precomputeRef ? .none : .live,
                                      bucketCapMB: bucketCapMb, wire: gradCommDtype, lora: lora))
    }

    /// The first lines of the report: the setup and how effective GFLOP/s is counted.
    func header(config: GPT2Config, flops: StepFLOPs, ranks: Int, precompute: Double?, lora: LoRASettings?) -> String {
        var trained = compareFull ? ", full fine-tuning (for comparison)" : ""
        if let lora {
            trained = ", LoRA r \(lora.rank) alpha \(lora.alpha) on " + lora.targets.joined(separator: ",")
                + " (base frozen, reference = base)"
        }
        let mode = (fullLogits ? "logits at every position" : "logits at completion positions only")
            + (noSharedPrompt ? ", prompt run twice per pair" : ", prompt shared by each pair's completions")
            + (precomputeRef ? ", precomputed reference" : ", live reference model")
            + (bf16 ? ", bf16 matmuls (baseline: torch.autocast bfloat16)" : ", float32")
            + (gradientCheckpointing ? ", gradient checkpointing" : "") + trained
        var lines = [
            "dpo-ddp bench: \(model) (\(GPT2Layout(config).count) parameters, N = \(flops.nonEmbeddingParameters) "
                + "outside the embeddings), \(ranks) rank(s) x \(KernelThreads.count) thread(s), OpenBLAS \(BLASCore.current)",
            "\(pairs) pairs per rank per step, prompt \(promptTokens) + completion \(completionTokens) tokens; "
                + "\(warmup) warm-up + \(steps) timed steps (median); \(mode)",
            "gradient buckets of " + (bucketCapMb > 0 ? "\(bucketCapMb) MiB overlapping backward" : "the whole gradient after backward")
                + " sent as \(gradCommDtype.rawValue)"
                + ["; optimiser state whole on every rank", "; ZeRO-1: optimiser state sharded over ranks",
                   "; ZeRO-2: optimiser state and gradient sharded over ranks"][zero],
            "effective work per step = 6·N·tokens (policy fwd+bwd) + 2·N·tokens (reference fwd) + 2·V·C·tokens·(3 + 1) "
                + "(LM head at every position, policy fwd+bwd and reference fwd), tokens = 2·pairs·(prompt + completion)",
        ]
        if let precompute { lines.append(String(format: "reference log-probs precomputed once in %.3f s (not in the step)", precompute)) }
        return lines.joined(separator: "\n")
    }

    /// Runs the PyTorch baseline (single process only) and fills its fields.
    func baseline(into result: inout BenchResult, config: GPT2Config) {
        guard !noBaseline else {
            result.pytorchSkipped = "--no-baseline"
            return
        }
        guard loraR == 0 else {
            result.pytorchSkipped = "the baseline trains every weight, not a LoRA adapter (--compare-full times ours)"
            return
        }
        guard result.ranks == 1 else {
            result.pytorchSkipped = "not run under mpirun (run dpo-ddp bench without mpirun for the baseline)"
            return
        }
        let arguments = ["--pairs", pairs, "--prompt-tokens", promptTokens, "--completion-tokens", completionTokens,
                         "--steps", steps, "--warmup", warmup, "--threads", result.threadsPerRank, "--seed", seed,
                         "--n-layer", config.nLayer, "--n-head", config.nHead, "--n-embd", config.nEmbd,
                         "--n-positions", config.nPositions, "--vocab-size", config.vocabSize].map { "\($0)" }
            + (bf16 ? ["--bf16"] : []) + (gradientCheckpointing ? ["--gradient-checkpointing"] : [])
        switch PyTorchBaseline.run(script: baselineScript, arguments: arguments) {
        case let .success(pytorch):
            result.pytorch = pytorch
            result.ratioPairsPerSecond = result.pairsPerSecond / pytorch.pairsPerSecond
            result.ratioPeakRss = Double(result.peakRssBytes) / Double(pytorch.peakRssBytes)
        case let .failure(skipped):
            result.pytorchSkipped = skipped.reason
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted(), n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// This process's peak resident set so far, in bytes (`ru_maxrss` is in KiB on Linux).
    static func peakRSSBytes() -> Int { resourceUsage().ru_maxrss * 1024 }

    /// `getrusage` of this process.
    static func resourceUsage() -> rusage {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage
    }

    /// `value` of every rank, in rank order, on every rank.
    static func gather(_ value: Double, _ communicator: any Communicator) throws -> [Double] {
        var values = [Double](repeating: 0, count: communicator.size)
        values[communicator.rank] = value
        try values.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        return values
    }

    static func sum(_ value: Double, _ communicator: any Communicator) throws -> Double {
        try gather(value, communicator).reduce(0, +)
    }
}
