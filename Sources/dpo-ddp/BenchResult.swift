import DPO
import Foundation

/// Everything one `dpo-ddp bench` run measured, printed as its last line in JSON (snake_case keys).
struct BenchResult: Encodable {
    /// One rank's own measurements.
    struct Rank: Encodable {
        var rank: Int
        var secondsPerStep: Double
        var pairsPerSecond: Double
        var allreduceSecondsPerStep: Double
        var peakRssBytes: Int
        var optimizerStateBytes: Int
    }

    /// Full fine-tuning of the same model, its timed steps alternating with the LoRA steps in the
    /// same run (`--compare-full`).
    struct FullModel: Encodable {
        var secondsPerStep: Double
        var stepSeconds: [Double]
        var pairsPerSecond: Double
        /// `MemoryPlan`'s estimate of one rank's step, summed over ranks (the process also holds
        /// the LoRA configuration, so its own peak RSS cannot be measured apart).
        var estimatedPeakRssBytes: Int
        var optimizerStateBytes: Int
        var allreduceSecondsPerStep: Double
        var bytesSentPerStep: Int
        var gradientElements: Int
        var allreducePayloadBytes: Int
        /// `GradientTraffic.sentBytes` at this run's ranks.
        var allreduceBytesPerRank: Int
    }

    var model: String
    var blasCore: String
    var ranks: Int
    var threadsPerRank: Int
    var pairsPerRank: Int
    var promptTokens: Int
    var completionTokens: Int
    var fullLogits: Bool
    var sharedPrompt: Bool
    var precomputeRef: Bool
    /// ZeRO stage (0 or 1).
    var zero: Int
    /// MiB per gradient bucket (0: one reduction after backward).
    var bucketCapMb: Double
    var warmupSteps: Int
    var steps: Int
    /// Rank 0's timed steps, in order (their spread shows how noisy the machine was).
    var stepSeconds: [Double]
    /// Median over the timed steps of the slowest rank (steps are in lock-step through the all-reduce).
    var secondsPerStep: Double
    /// Pairs of all ranks per second.
    var pairsPerSecond: Double
    var tokensPerSecond: Double
    /// `StepFLOPs` of a plain implementation (live reference, logits at every position), all ranks.
    var effectiveGflopPerStep: Double
    /// `StepFLOPs` of what this mode runs, all ranks.
    var executedGflopPerStep: Double
    var effectiveGflops: Double
    var executedGflops: Double
    /// Our step's matmuls on bfloat16 inputs (`--bf16`), the baseline under autocast.
    var bf16: Bool
    /// Sum over ranks of each rank's float32 matmul ceiling (`MatmulBenchmark.ceiling`), measured at the same time.
    var sgemmCeilingGflops: Double
    /// The same with bfloat16 inputs.
    var bf16CeilingGflops: Double
    /// Effective GFLOP/s over the ceiling of the step's precision (bf16's with `--bf16`).
    var percentOfCeiling: Double
    /// Executed GFLOP/s over the ceiling of the step's precision.
    var executedPercentOfCeiling: Double
    /// The oneDNN kernels (implementation names) of the step's matmuls, by precision.
    var matmulKernels: [String]
    /// Sum over ranks of each rank's peak resident set (`getrusage` `ru_maxrss`), after the timed
    /// steps (with `--compare-full`, after the warm-up, before full fine-tuning is set up).
    var peakRssBytes: Int
    /// Rank 0's minor page faults per timed step: memory the step touched for the first time
    /// (0 when every buffer was sized before the timed steps and reused); with `--compare-full`
    /// of both configurations' steps.
    var pageFaultsPerStep: Double
    /// Median over timed steps of the time blocked in communication per step, slowest rank (the
    /// reduction overlapping backward is not counted, only what it leaves to wait for).
    var allreduceSecondsPerStep: Double
    /// How gradient buckets travel between ranks (`fp32` or `bf16`).
    var gradCommDtype: String
    /// Bytes rank 0 sent per timed step in all-reduces, reductions and all-gathers, counted as ring
    /// algorithms send them (2·(p−1)/p of an all-reduced buffer): 0 on one rank.
    var bytesSentPerStep: Int
    /// `--link-gbps`: the link speed to predict communication time for.
    var linkGbps: Double?
    /// `bytesSentPerStep` over that link: the seconds per step a link of `linkGbps` Gbit/s needs
    /// to carry it (bandwidth only; no latency, no overlap with backward).
    var predictedCommunicationSeconds: Double?
    /// Trainable parameters: the elements of the gradient summed over ranks.
    var gradientElements = 0
    /// The gradient as it travels per step: `gradientElements` × the wire's bytes (`GradientTraffic`).
    var allreducePayloadBytes = 0
    /// `GradientTraffic` at this run's ranks: what the gradient's all-reduce (or with ZeRO its
    /// reductions to the owners) sends, and receives, per rank and step (2·(n−1)/n of the payload
    /// without ZeRO); 0 on one rank. `bytesSentPerStep` is what was counted.
    var allreduceReduceBytesPerRank = 0
    /// The same for ZeRO's weight all-gather ((n−1)/n of 4 B per trainable parameter); 0 without ZeRO.
    var allreduceGatherBytesPerRank = 0
    /// `--lora-r` (0: every weight trained).
    var loraR = 0
    /// With `--lora-r`, what full fine-tuning of the same model would all-reduce per step at the
    /// same wire (every parameter's gradient), so the adapter's traffic is shown next to it
    /// without running full fine-tuning (gpt2-xl's would not fit); nil without LoRA.
    var fullModelPayloadBytes: Int?
    /// `--compare-full`'s full fine-tuning row.
    var fullModel: FullModel?
    /// Full fine-tuning's s/step over LoRA's (above 1: the LoRA step is faster).
    var fullOverLoraSeconds: Double?
    /// AdamW's two moment buffers on one rank (the largest rank's): 8 bytes per parameter, divided
    /// by the ranks with ZeRO-1.
    var optimizerStateBytes: Int
    var referencePrecomputeSeconds: Double?
    /// `MemoryPlan`'s estimate of each component of one rank's memory during the step, in bytes.
    var estimatedBytes: [String: Int]
    /// Their sum: the estimated peak RSS of one rank (compare with `perRank`'s `peakRssBytes`).
    var estimatedPerRankBytes: Int
    /// Bytes of the policy's activation buffers as allocated (rank 0), to compare with `estimatedBytes["activations"]`.
    var policyActivationBytes: Int
    var perRank: [Rank]
    var pytorch: PyTorchBaseline.Result?
    var pytorchSkipped: String?
    /// Ours / PyTorch, pairs per second.
    var ratioPairsPerSecond: Double?
    /// Ours / PyTorch, peak RSS.
    var ratioPeakRss: Double?
    /// The policy recomputed each block's activations in backward (`--gradient-checkpointing`).
    var gradientCheckpointing = false

    /// Fills the traffic fields from `traffic`.
    mutating func setTraffic(_ traffic: GradientTraffic) {
        gradientElements = traffic.gradientElements
        allreducePayloadBytes = traffic.payloadBytes
        allreduceReduceBytesPerRank = traffic.reduceBytes
        allreduceGatherBytesPerRank = traffic.allGatherBytes
    }

    /// The JSON line.
    var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The human-readable report: the per-rank lines, the table and the ratios.
    var table: [String] {
        var lines = perRank.count > 1 ? perRank.map { r in
            String(format: "rank %d: %.3f s/step, %.3f pairs/s, all-reduce %.3f s/step, peak RSS ",
                   r.rank, r.secondsPerStep, r.pairsPerSecond, r.allreduceSecondsPerStep) + Self.bytes(r.peakRssBytes)
                + ", optimizer state " + Self.bytes(r.optimizerStateBytes)
        } : []
        lines.append(Self.row(["", "s/step", "pairs/s", "tokens/s", "eff GFLOP/s", "% ceiling", "peak RSS", "optim/rank",
                               "grad/step"]))
        lines.append(Self.row(["dpo-ddp" + (ranks > 1 ? " (\(ranks) ranks)" : "") + (zero > 0 ? " ZeRO-\(zero)" : "")
                                   + (loraR > 0 ? " LoRA r \(loraR)" : ""),
                               Self.number(secondsPerStep), Self.number(pairsPerSecond), Self.number(tokensPerSecond, 1),
                               Self.number(effectiveGflops, 1), Self.number(percentOfCeiling, 1), Self.bytes(peakRssBytes),
                               Self.bytes(optimizerStateBytes), Self.megabytes(allreducePayloadBytes)]))
        if let full = fullModel {
            let gflops = effectiveGflopPerStep / full.secondsPerStep
            lines.append(Self.row(["dpo-ddp full fine-tuning", Self.number(full.secondsPerStep), Self.number(full.pairsPerSecond),
                                   Self.number(tokensPerSecond * secondsPerStep / full.secondsPerStep, 1), Self.number(gflops, 1),
                                   Self.number(100 * gflops / (bf16 ? bf16CeilingGflops : sgemmCeilingGflops), 1),
                                   "est " + Self.bytes(full.estimatedPeakRssBytes), Self.bytes(full.optimizerStateBytes),
                                   Self.megabytes(full.allreducePayloadBytes)]))
        }
        if let pytorch {
            let gflops = effectiveGflopPerStep / Double(ranks) / pytorch.secondsPerStep
            lines.append(Self.row(["PyTorch \(pytorch.torch)", Self.number(pytorch.secondsPerStep),
                                   Self.number(pytorch.pairsPerSecond), Self.number(pytorch.tokensPerSecond, 1),
                                   Self.number(gflops, 1), Self.number(100 * gflops / (bf16 ? bf16CeilingGflops : sgemmCeilingGflops), 1),
                                   Self.bytes(pytorch.peakRssBytes), "-", "-"]))
        }
        if let full = fullModel, let ratio = fullOverLoraSeconds {
            lines.append(String(format: "full fine-tuning / LoRA r %d: %.2fx s/step (timed steps alternating), %.2fx peak RSS "
                                + "(full's estimated), %.1fx gradient all-reduced (%@ vs %@ trainable floats)", loraR, ratio,
                                Double(full.estimatedPeakRssBytes) / Double(max(peakRssBytes, 1)),
                                Double(full.allreducePayloadBytes) / Double(max(allreducePayloadBytes, 1)),
                                "\(full.gradientElements)", "\(gradientElements)"))
            lines.append("full fine-tuning's timed steps: " + full.stepSeconds.map { Self.number($0) }.joined(separator: ", ")
                + " s; LoRA's: " + stepSeconds.map { Self.number($0) }.joined(separator: ", ") + " s")
        }
        if ranks > 1 {
            lines.append(String(format: "blocked in communication: %.3f s/step (%.1f%% of the step)",
                                allreduceSecondsPerStep, 100 * allreduceSecondsPerStep / secondsPerStep))
            lines.append(String(format: "sent per rank per step: %.1f MB (gradient as %@, ring algorithms)",
                                Double(bytesSentPerStep) / 1e6, gradCommDtype))
        }
        lines.append(trafficLine)
        if let linkGbps, let predictedCommunicationSeconds {
            lines.append(String(format: "predicted communication at %g Gbit/s: %.3f s/step (bandwidth only)",
                                linkGbps, predictedCommunicationSeconds))
        }
        lines.append(String(format: "matmul ceilings (2048³, same run): float32 %.1f GFLOP/s, bfloat16 %.1f GFLOP/s; "
                            + "executed %.1f GFLOP/s = %.1f%% of the ", sgemmCeilingGflops, bf16CeilingGflops,
                            executedGflops, executedPercentOfCeiling) + (bf16 ? "bfloat16" : "float32") + " ceiling")
        lines.append("matmul kernels: " + matmulKernels.joined(separator: ", "))
        lines.append(String(format: "page faults per timed step (rank 0): %.0f", pageFaultsPerStep))
        let measured = perRank.map(\.peakRssBytes).max() ?? peakRssBytes
        lines.append("peak RSS per rank: measured " + Self.bytes(measured) + ", estimated " + Self.bytes(estimatedPerRankBytes)
            + String(format: " (%+.1f%%): ", 100 * (Double(estimatedPerRankBytes) / Double(max(measured, 1)) - 1))
            + estimatedBytes.filter { $0.value > 0 }.sorted { $0.value > $1.value }.map { "\($0.key) " + Self.bytes($0.value) }
                .joined(separator: ", "))
        lines.append("policy activation buffers: allocated " + Self.bytes(policyActivationBytes) + ", estimated "
            + Self.bytes(estimatedBytes["activations"] ?? 0))
        if let ratioPairsPerSecond, let ratioPeakRss {
            lines.append(String(format: "ours / PyTorch: %.2fx pairs/s, %.2fx peak RSS", ratioPairsPerSecond, ratioPeakRss))
        } else if let pytorchSkipped {
            lines.append("PyTorch baseline skipped: \(pytorchSkipped)")
        }
        return lines
    }

    /// The gradient's traffic per step: the payload, and what ring algorithms send per rank at
    /// this run's ranks (and, on one rank, at 2 and many, where 2·(n−1)/n tends to 2).
    var trafficLine: String {
        let payload = Double(allreducePayloadBytes) / 1e6
        var line = "gradient summed over ranks per step: \(gradientElements) trainable floats as \(gradCommDtype) = "
            + String(format: "%.2f MB", payload)
        if zero > 0 {
            line += String(format: "; ZeRO-%d per rank: reductions to the owners %.2f MB + weight all-gather %.2f MB "
                           + "((n-1)/n of each) at %d rank(s)", zero, Double(allreduceReduceBytesPerRank) / 1e6,
                           Double(allreduceGatherBytesPerRank) / 1e6, ranks)
        } else if ranks > 1 {
            line += String(format: "; a ring all-reduce sends and receives 2(n-1)/n of it: %.2f MB per rank at %d ranks",
                           Double(allreduceReduceBytesPerRank) / 1e6, ranks)
        } else {
            line += String(format: "; a ring all-reduce sends and receives 2(n-1)/n of it per rank: %.2f MB at 2 ranks, "
                           + "up to %.2f MB at many", payload, 2 * payload)
        }
        if let full = fullModelPayloadBytes {
            line += String(format: "\nfull fine-tuning of this model would sum %.2f MB per step (%.0fx the adapter's)",
                           Double(full) / 1e6, Double(full) / Double(max(allreducePayloadBytes, 1)))
        }
        return line
    }

    private static func row(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            let width = i == 0 ? 28 : 13
            return i == 0 ? cell.padding(toLength: width, withPad: " ", startingAt: 0)
                : String(repeating: " ", count: max(1, width - cell.count)) + cell
        }.joined()
    }

    private static func number(_ value: Double, _ decimals: Int = 3) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private static func megabytes(_ count: Int) -> String {
        String(format: "%.1f MB", Double(count) / 1e6)
    }

    private static func bytes(_ count: Int) -> String {
        String(format: "%.2f GB", Double(count) / 1e9)
    }
}
