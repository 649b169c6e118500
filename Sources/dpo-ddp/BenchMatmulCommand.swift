import ArgumentParser
import Foundation
import GPT2
import Kernels

/// `dpo-ddp bench-matmul`: every matmul of a GPT-2 step timed in each backend (OpenBLAS, oneDNN
/// float32, oneDNN bfloat16), with the kernels oneDNN chose.
struct BenchMatmulCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-matmul",
        abstract: "Time each matmul shape of a GPT-2 DPO step in OpenBLAS, oneDNN float32 and oneDNN bfloat16.",
        discussion: """
            The shapes are those of one micro-batch of `dpo-ddp bench` with the same --pairs, \
            --prompt-tokens and --completion-tokens (prompt shared by the completions, logits at \
            completion positions): each block's four layers forward and their two backward products \
            (input gradient, weight gradient accumulated), and the LM head's three. Each round runs \
            the three backends once, interleaved; the best of --repeats rounds is reported, in GFLOP/s. \
            The bfloat16 operands are rounded beforehand, as the model's weights are.

            Example:
              dpo-ddp bench-matmul
              dpo-ddp bench-matmul --threads 1 --repeats 10
            """)

    @Option(help: "A size name (gpt2, gpt2-medium, ...).")
    var model = "gpt2"

    @Option(help: "Pairs per micro-batch.")
    var pairs = 2

    @Option(help: "Prompt tokens of each pair.")
    var promptTokens = 64

    @Option(help: "Tokens of each completion.")
    var completionTokens = 64

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Timed rounds; the best is reported.")
    var repeats = 5

    func validate() throws {
        guard GPT2Config.named(model) != nil else { throw ValidationError("--model: no size named '\(model)'") }
        for (name, value) in [("pairs", pairs), ("prompt-tokens", promptTokens), ("completion-tokens", completionTokens),
                              ("repeats", repeats)] where value < 1 {
            throw ValidationError("--\(name) must be at least 1, got \(value)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let config = GPT2Config.named(model)!
        KernelThreads.set(threads ?? 0)
        let shape = BenchShape(pairs: pairs, promptTokens: promptTokens, completionTokens: completionTokens)
        let shapes = Self.shapes(config: config, rows: shape.sharedPromptRows, targets: shape.completionPositions)
        print("dpo-ddp bench-matmul: \(model), \(shape.sharedPromptRows) rows, \(shape.completionPositions) scored rows, "
              + "\(KernelThreads.count) thread(s), OpenBLAS \(BLASCore.current); GFLOP/s, best of \(repeats)")
        let timings = MatmulBenchmark.measure(shapes, repeats: repeats)
        let name = timings.map(\.shape.name.count).max()! + 2
        func cell(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        print(cell("product", name) + cell("m x n x k", 22) + cell("OpenBLAS", 10) + cell("oneDNN", 10)
              + cell("winner", 10) + cell("bf16", 10) + "oneDNN kernels (f32 / bf16)")
        for t in timings {
            let s = t.shape
            print(cell(s.name, name) + cell("\(s.m) x \(s.n) x \(s.k)", 22) + cell(String(format: "%.1f", t.openBLAS), 10)
                  + cell(String(format: "%.1f", t.oneDNN), 10) + cell(t.oneDNN >= t.openBLAS ? "oneDNN" : "OpenBLAS", 10)
                  + cell(String(format: "%.1f", t.bf16), 10)
                  + "\(t.oneDNNImplementation ?? "none (OpenBLAS)") / \(t.bf16Implementation ?? "none (OpenBLAS)")")
        }
        let total = { (rate: (MatmulTiming) -> Double) in
            timings.reduce(0) { $0 + $1.shape.flops * Double($1.shape.name.hasPrefix("h.*") ? config.nLayer : 1) / rate($1) / 1e9 }
        }
        print(String(format: "one micro-batch's products (policy forward + backward): OpenBLAS %.3f s, oneDNN %.3f s, bf16 %.3f s",
                     total(\.openBLAS), total(\.oneDNN), total(\.bf16)))
    }

    /// The products of one forward and backward pass over `rows` rows with `targets` scored rows.
    static func shapes(config: GPT2Config, rows n: Int, targets m: Int) -> [MatmulShape] {
        let c = config.nEmbd, v = config.vocabSize
        var shapes: [MatmulShape] = []
        for (layer, ic, oc) in [("attn.c_attn", c, 3 * c), ("attn.c_proj", c, c), ("mlp.c_fc", c, config.nInner),
                                ("mlp.c_proj", config.nInner, c)] {
            shapes.append(MatmulShape("h.*.\(layer) forward", m: n, n: oc, k: ic, accumulate: true))  // onto the bias
            shapes.append(MatmulShape("h.*.\(layer) d input", transB: true, m: n, n: ic, k: oc))
            shapes.append(MatmulShape("h.*.\(layer) d weight", transA: true, m: ic, n: oc, k: n, accumulate: true))
        }
        shapes.append(MatmulShape("lm_head forward", transB: true, m: m, n: v, k: c))
        shapes.append(MatmulShape("lm_head d input", m: m, n: c, k: v, accumulate: true))
        shapes.append(MatmulShape("lm_head d wte", transA: true, m: v, n: c, k: m, accumulate: true))
        return shapes
    }
}
