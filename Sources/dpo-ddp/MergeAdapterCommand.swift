import ArgumentParser
import DPO
import Foundation
import GPT2

/// `dpo-ddp merge-adapter`: a base model with a PEFT LoRA adapter merged into its weights, saved
/// as a plain Hugging Face checkpoint (PEFT's `merge_and_unload()` + `save_pretrained`).
struct MergeAdapterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-adapter",
        abstract: "Merge a PEFT LoRA adapter into its base model and save a plain Hugging Face checkpoint.",
        discussion: """
            Every adapted Conv1D weight becomes W + scaling · (B A)ᵀ (scaling = lora_alpha / r, or \
            lora_alpha / sqrt(r) with use_rslora), as PEFT's merge_and_unload() does. OUT gets \
            config.json, model.safetensors (float32) and the tokenizer files of BASE (else --tokenizer, \
            else GPT-2's bundled files), as train's final/ does; it is written into a hidden directory \
            beside it and renamed into place, so a failure never leaves a half-written OUT. An existing \
            OUT is refused. An adapter made for another model shape is refused with the reason.

            Examples:
              dpo-ddp merge-adapter --model models/gpt2 --adapter runs/lora/final --output models/gpt2-dpo
            """)

    @Option(help: ArgumentHelp("The base model: a Hugging Face GPT-2 checkpoint directory.", valueName: "dir"))
    var model: String

    @Option(help: ArgumentHelp("The PEFT adapter directory (adapter_config.json + adapter_model.safetensors).",
                               valueName: "dir"))
    var adapter: String

    @Option(help: ArgumentHelp("Where to write the merged checkpoint (must not exist).", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("Tokenizer directory (default: the base model's files, else GPT-2's bundled files).",
                               valueName: "dir"))
    var tokenizer: String?

    func run() throws {
        guard GPT2Config.named(model) == nil else {
            throw ValidationError("--model \(model) is a size name: merge-adapter needs the base checkpoint directory "
                + "the adapter was trained on")
        }
        let out = URL(fileURLWithPath: output).standardizedFileURL
        guard !FileManager.default.fileExists(atPath: out.path) else {
            throw ValidationError("--output \(out.path) exists: remove it or choose another directory")
        }
        let files = try RunInputs.tokenizerFiles(explicit: tokenizer, model: model)
        let (base, lora) = try RunInputs.mergedModel(model, adapter: adapter, seed: 0)
        try FileManager.default.createDirectory(at: out.deletingLastPathComponent(), withIntermediateDirectories: true)
        let saved = try CheckpointStore(directory: out.deletingLastPathComponent())
            .saveModel(base, baseModel: model, tokenizerFiles: files, name: out.lastPathComponent)
        print("merged \(adapter) (r \(lora.settings.rank), alpha \(lora.settings.alpha), "
            + "\(lora.settings.targets.joined(separator: ","))) into \(model): \(saved.path)")
    }
}
