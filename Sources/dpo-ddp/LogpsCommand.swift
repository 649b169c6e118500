import ArgumentParser
import DPO
import Foundation
import PreferenceData

/// `dpo-ddp logps`: summed completion log-probabilities of each pair under a model.
struct LogpsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logps",
        abstract: "Print each pair's summed chosen/rejected completion log-probs under a model (JSON Lines).",
        discussion: """
            One line per pair: {"pair", "line", "chosen_logp", "rejected_logp", "chosen_tokens", "rejected_tokens"}. \
            What loading did (rows read, pairs dropped because their prompt fills --max-length, ...) goes to \
            standard error, as train prints it; inspect-data lists the dropped rows' lines.

            Examples:
              dpo-ddp logps --model runs/default/final --data data/default/eval.jsonl
              dpo-ddp logps --model gpt2-tiny --data pairs.jsonl --max-length 256 > logps.jsonl
              dpo-ddp logps --model models/gpt2 --adapter runs/lora/final --data data/default/eval.jsonl
            """)

    @Option(help: ArgumentHelp("A checkpoint directory or a size name.", valueName: "dir"))
    var model: String

    @Option(help: ArgumentHelp("A PEFT LoRA adapter directory to apply to --model (the model = base + adapter, frozen).",
                               valueName: "dir"))
    var adapter: String?

    @Option(help: "Pairs per forward pass.")
    var batchSize = 8

    @OptionGroup(title: "Data")
    var data: DataOptions

    @Option(help: ArgumentHelp("Tokenizer directory (default: the model's files, else GPT-2's bundled files).", valueName: "dir"))
    var tokenizer: String?

    @Option(help: "Seed of the random initialisation when --model is a size name.")
    var seed = 42

    func run() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be >= 1") }
        let files = try RunInputs.tokenizerFiles(explicit: tokenizer, model: model)
        let tokenizer = try RunInputs.tokenizer(files)
        let shape = try RunInputs.modelConfig(model)
        if let maxLength = data.maxLength {
            try ContextLength.check(maxLength: maxLength, setting: "max_length", models: [(model, shape)])
        }
        let dataset = try RunInputs.requirePairs(
            data.load(tokenizer: tokenizer, defaultMaxLength: ContextLength.defaultMaxLength(models: [shape])), path: data.data)
        FileHandle.standardError.write(Data("data \(data.data): \(dataset.report.summary)\n".utf8))
        let policy = try RunInputs.frozenModel(model, adapter: adapter, seed: seed)
        for start in stride(from: 0, to: dataset.pairs.count, by: batchSize) {
            let pairs = Array(dataset.pairs[start..<min(dataset.pairs.count, start + batchSize)])
            let batch = MicroBatch(pairs: pairs, padID: tokenizer.endOfTextID)
            let scores = try SequenceScores(model: policy, scoring: ScoringInput(batch))
            for (i, pair) in pairs.enumerated() {
                let object: [String: Any] = [
                    "pair": pair.index, "line": pair.line,
                    "chosen_logp": scores.logps[i], "rejected_logp": scores.logps[pairs.count + i],
                    "chosen_tokens": scores.tokens[i], "rejected_tokens": scores.tokens[pairs.count + i],
                ]
                let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: json, as: UTF8.self))
            }
        }
    }
}
