import ArgumentParser
import DPO
import Distributed
import FileErrors
import Foundation

/// `dpo-ddp eval`: the `eval_` metrics of a saved model on preference pairs.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Compute DPO metrics (eval_loss, eval_rewards/accuracies, ...) of a saved model.",
        discussion: """
            The loss, beta and reference come from the run's settings: pass the run's \
            resolved_config.yaml as --config, or the options themselves. The reference is --ref-model, \
            else the run's SFT model (OUTPUT_DIR/sft) when it had an SFT phase, else --model (the starting \
            model). With LoRA (docs/lora.md) --policy may be a PEFT adapter directory, applied to the base \
            --model, and the reference follows TRL: the base, or with --adapter the base with that starting \
            adapter. The pairs are --eval-data, else the run's val_size split of --data (as recorded in its \
            data_split.json), else --data. Prints one JSON object; what loading the pairs \
            did (rows read, pairs dropped because their prompt fills --max-length, ...) goes to standard error.

            Examples:
              dpo-ddp eval --policy runs/default/final --config runs/default/resolved_config.yaml
              dpo-ddp eval --policy my-model --model gpt2-start --data heldout.jsonl --beta 0.1
              dpo-ddp eval --policy runs/lora/final --config runs/lora/resolved_config.yaml
            """)

    @Option(help: ArgumentHelp("The model to evaluate: a checkpoint directory, or a LoRA run's PEFT adapter directory (applied to --model, the base).", valueName: "dir"))
    var policy: String

    @Option(help: ArgumentHelp("YAML file of settings, e.g. a run's resolved_config.yaml.", valueName: "file"))
    var config: String?

    @OptionGroup(title: "Settings")
    var options: TrainOptions

    func run() throws {
        let communicator = try CommunicatorFactory.make()
        do {
            let config = try options.resolved(configFile: self.config, worldSize: communicator.size, scoredBy: RunInputs.isAdapterDirectory(policy) ? [] : [policy])
            let files = try RunInputs.tokenizerFiles(explicit: config.tokenizer, model: policy)
            let tokenizer = try RunInputs.tokenizer(files)
            let sets = try RunDataSets.load(config: config, tokenizer: tokenizer,
                                            recorded: try DataSplit.read(in: URL(fileURLWithPath: config.outputDir)))
            let dataset = sets.eval ?? sets.train
            if communicator.rank == 0 {
                FileHandle.standardError.write(Data(sets.summary.map { $0 + "\n" }.joined().utf8))
            }
            let model = try ModelEvaluation.policyModel(policy, config: config)
            let metrics = try ModelEvaluation.metrics(policy: model, dataset: dataset, config: config,
                                                      padID: tokenizer.endOfTextID, communicator: communicator)
            if communicator.rank == 0 {
                let object = Dictionary(uniqueKeysWithValues: metrics.map { ("eval_" + $0.key, $0.value) })
                let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: json, as: UTF8.self))
            }
            try communicator.finalize()
        } catch {
            communicator.abort(message: FileError.message(for: error), code: 1)
        }
    }
}
