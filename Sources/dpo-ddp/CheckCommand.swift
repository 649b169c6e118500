import ArgumentParser
import DPO
import Foundation
import GPT2
import Kernels
import Safetensors

/// `dpo-ddp check`: runs GPT-2 forward and backward on random tokens, times them, checks the
/// gradient against a finite difference, and optionally saves a Hugging Face checkpoint with
/// reference logits for `scripts/check_hf_checkpoint.py`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run GPT-2 forward and backward once, time it and verify the gradient.",
        discussion: """
            Examples:
              dpo-ddp check                                  # GPT-2 124M, 4 sequences x 128 tokens
              dpo-ddp check --model gpt2-tiny --save /tmp/ck # also write an HF checkpoint + logits
              dpo-ddp check --model path/to/hf-checkpoint
            """)

    @Option(help: "A size name (\(GPT2Config.namedSizes.map(\.name).joined(separator: ", "))) or a checkpoint directory.")
    var model = "gpt2"

    @Option(help: "Sequences per batch.")
    var batch = 4

    @Option(help: "Tokens per sequence.")
    var seqLen = 128

    @Option(help: "Timed forward+backward repetitions (the median is reported).")
    var repeats = 3

    @Option(help: "Seed for the random initialisation and the random tokens.")
    var seed: UInt64 = 0

    @Option(help: "Write config.json, model.safetensors and check_logits.safetensors here.")
    var save: String?

    func validate() throws {
        guard batch >= 1, seqLen >= 2, repeats >= 1 else {
            throw ValidationError("--batch must be >= 1, --seq-len >= 2, --repeats >= 1")
        }
    }

    func run() throws {
        let gpt = try RunInputs.model(model, seed: Int(seed), trainable: true)
        let config = gpt.config
        guard seqLen <= config.nPositions else {
            throw ValidationError("--seq-len \(seqLen) exceeds the model's n_positions \(config.nPositions)")
        }
        var rng = SeededNormal(seed: seed &+ 1)
        let tokens = (0..<batch * seqLen).map { _ in Int32(rng.nextBits() % UInt64(config.vocabSize)) }
        // Score every next token, as a language-modelling loss would; the weights make the
        // loss the mean log-probability.
        let rows = (0..<batch * seqLen).filter { ($0 + 1) % seqLen != 0 }
        let input = GPT2Input(tokens: tokens, batchSize: batch, seqLen: seqLen,
                              targetRows: rows.map { Int32($0) }, targets: rows.map { tokens[$0 + 1] })
        let weights = [Float](repeating: 1 / Float(rows.count), count: rows.count)
        print("model: \(model)  layers=\(config.nLayer) heads=\(config.nHead) embd=\(config.nEmbd) "
            + "params=\(gpt.layout.count)  batch=\(batch)x\(seqLen)  BLAS kernels: \(BLASCore.current)")

        let clock = ContinuousClock()
        var forwardTimes: [Double] = [], backwardTimes: [Double] = []
        var meanLogp = 0.0
        for _ in 0..<repeats {
            gpt.zeroGradients()
            let t0 = clock.now
            let logp = try gpt.forward(input)
            let t1 = clock.now
            meanLogp = zip(logp, weights).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            weights.withUnsafeBufferPointer { gpt.backward(dlogp: $0) }
            let t2 = clock.now
            forwardTimes.append((t1 - t0).inSeconds)
            backwardTimes.append((t2 - t1).inSeconds)
        }
        let fwd = median(forwardTimes), bwd = median(backwardTimes)
        let check = try checkGradientAlongGradient(model: gpt, input: input, weights: weights)
        print(String(format: "mean next-token log-prob %.4f (uniform would be %.4f)", meanLogp, -log(Double(config.vocabSize))))
        print(String(format: "forward %.3f s  backward %.3f s  forward+backward %.3f s  (median of %d)",
                     fwd, bwd, fwd + bwd, repeats))
        print(String(format: "gradient check along g: analytic %.6e  numeric %.6e  relative error %.2e",
                     check.analytic, check.numeric, check.relativeError))
        if let save { try saveCheckpoint(gpt, tokens: tokens, to: URL(fileURLWithPath: save)) }
        guard check.relativeError < 1e-2 else {
            throw ValidationError("gradient check failed: relative error \(check.relativeError) >= 1e-2")
        }
        print("check passed")
    }

    /// Writes the checkpoint and the logits of every position for `tokens`.
    private func saveCheckpoint(_ gpt: GPT2Model, tokens: [Int32], to directory: URL) throws {
        try HFCheckpoint.save(gpt, to: directory)
        let all = (0..<(batch * seqLen)).map { Int32($0) }
        let input = GPT2Input(tokens: tokens, batchSize: batch, seqLen: seqLen, targetRows: all,
                              targets: [Int32](repeating: 0, count: all.count))
        try gpt.forward(input)
        let v = gpt.config.vocabSize
        var logits = [Float](repeating: 0, count: batch * seqLen * v)
        for m in 0..<(batch * seqLen) {
            let row = gpt.logits(target: m)
            for j in 0..<v { logits[m * v + j] = row[j] }
        }
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        try writer.add("input_ids", shape: [batch, seqLen], int64s: tokens.map(Int64.init))
        try writer.add("logits", shape: [batch, seqLen, v], floats: logits)
        try writer.write(to: directory.appendingPathComponent("check_logits.safetensors"))
        print("saved \(directory.path) (check with: python3 scripts/check_hf_checkpoint.py \(directory.path))")
    }
}


private func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
