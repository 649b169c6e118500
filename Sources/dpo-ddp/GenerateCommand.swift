import ArgumentParser
import DPO
import Foundation
import GPT2

/// `dpo-ddp generate`: continues a prompt with a GPT-2 model, greedily or by sampling, with a
/// key/value cache (each new token costs one token's pass, not the whole sequence's).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a GPT-2 model (greedy, temperature, top-k, top-p sampling).",
        discussion: """
            Prints the prompt and its continuation on standard output as the tokens come, and the \
            stop reason and speed on standard error. Generation stops at <|endoftext|> (not printed) \
            or after --max-new-tokens; the prompt's tokens plus --max-new-tokens must fit the model's \
            n_positions (checked before generating). Sampling \
            follows transformers: logits / temperature, then top-k, then top-p; the same --seed gives \
            the same text. An empty prompt starts from <|endoftext|>.

            Examples:
              dpo-ddp generate --model runs/default/final --prompt "The meaning of life is" --greedy
              dpo-ddp generate --model runs/default/final --prompt "Once upon a time" \\
                  --temperature 0.8 --top-k 50 --top-p 0.95 --seed 7 --max-new-tokens 128
              dpo-ddp generate --model models/gpt2 --adapter runs/lora/final --prompt "Hello" --greedy
              dpo-ddp generate --model gpt2 --prompt "Hello" --max-new-tokens 64   # random init: a speed test
            """)

    @Option(help: ArgumentHelp("A checkpoint directory or a size name "
        + "(\(GPT2Config.namedSizes.map(\.name).joined(separator: ", ")); randomly initialised).", valueName: "dir|size"))
    var model: String

    @Option(help: ArgumentHelp("A PEFT LoRA adapter directory to apply to --model (merged into its weights, as PEFT's merge_and_unload).",
                               valueName: "dir"))
    var adapter: String?

    @Option(help: "The text to continue.")
    var prompt: String

    @Option(help: "Most new tokens to generate.")
    var maxNewTokens = 64

    @Option(help: "Divides the logits before sampling; higher is more random.")
    var temperature: Float = 1

    @Option(help: "Sample only among the k most likely tokens (0: all).")
    var topK = 0

    @Option(help: "Sample only among the most likely tokens whose probabilities sum to p (1: all).")
    var topP: Float = 1

    @Flag(help: "Always take the most likely token (ignores temperature, top-k, top-p and seed).")
    var greedy = false

    @Option(help: "Seed of the sampling (and of the initialisation when --model is a size name).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Tokenizer directory (default: the model's files, else GPT-2's bundled files).",
                               valueName: "dir"))
    var tokenizer: String?

    func validate() throws {
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be >= 0") }
        do {
            try settings.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    private var settings: SamplingSettings {
        SamplingSettings(greedy: greedy, temperature: temperature, topK: topK, topP: topP)
    }

    func run() throws {
        let tokenizer = try RunInputs.tokenizer(RunInputs.tokenizerFiles(explicit: self.tokenizer, model: model))
        // The key/value-cache generator runs the base weights alone: an adapter is merged into them.
        let initSeed = Int(truncatingIfNeeded: seed)
        let gpt = try adapter.map { try RunInputs.mergedModel(model, adapter: $0, seed: initSeed).model }
            ?? RunInputs.model(model, seed: initSeed, trainable: false)
        let encoded = tokenizer.encode(prompt)
        let ids = encoded.isEmpty ? [tokenizer.endOfTextID] : encoded
        guard ids.count + maxNewTokens <= gpt.config.nPositions else {
            throw ValidationError("\(ids.count) prompt tokens + --max-new-tokens \(maxNewTokens) = \(ids.count + maxNewTokens) "
                + "exceed the n_positions \(gpt.config.nPositions) of model \(model): shorten the prompt or lower --max-new-tokens")
        }
        let generator = try GPT2Generator(model: gpt, capacity: ids.count + maxNewTokens)
        var sampler = try TokenSampler(settings: settings, seed: seed, vocabularySize: gpt.config.vocabSize)

        let output = FileHandle.standardOutput
        output.write(Data(try tokenizer.decodeBytes(encoded)))
        let clock = ContinuousClock(), start = clock.now
        var firstToken = start
        let result = try generator.generate(prompt: ids, maxNewTokens: maxNewTokens, sampler: &sampler,
                                            stopToken: tokenizer.endOfTextID) { token in
            if firstToken == start { firstToken = clock.now }
            // An id the tokenizer lacks (a model vocabulary padded past the tokenizer's) prints as U+FFFD.
            if token != tokenizer.endOfTextID {
                output.write(Data((try? tokenizer.decodeBytes([token])) ?? Array("\u{FFFD}".utf8)))
            }
        }
        let end = clock.now
        output.write(Data("\n".utf8))
        report(result, ids.count, prefill: firstToken - start, decode: end - firstToken)
    }

    /// The stop reason and the speed, on standard error.
    private func report(_ result: Generation, _ promptTokens: Int, prefill: Duration, decode: Duration) {
        let reason = switch result.stopReason {
        case .endOfText: "<|endoftext|>"
        case .maxNewTokens: "--max-new-tokens reached"
        case .contextFull: "the model's n_positions reached"
        }
        let steps = max(0, result.tokens.count - 1)
        let rate = steps > 0 ? String(format: "%.1f tokens/s", Double(steps) / decode.inSeconds) : "no more tokens"
        let line = "[\(result.tokens.count) new tokens, stopped: \(reason); prompt of \(promptTokens) tokens "
            + String(format: "+ first token %.3f s, then ", prefill.inSeconds) + rate + "]\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
