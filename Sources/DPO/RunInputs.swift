import Foundation
import GPT2
import PreferenceData
import Tokenizer

/// Loading what a command names: models (checkpoint directories or size names), tokenizers and
/// data sets, with the defaults every command shares.
public enum RunInputs {
    /// A checkpoint directory, or a size name (`gpt2`, `gpt2-tiny`, ...) initialised from `seed`,
    /// with `adapter` applied (trainable: only the adapter trains, see `GPT2Model`).
    public static func model(_ spec: String, seed: Int, trainable: Bool, adapter: LoRAAdapter? = nil) throws -> GPT2Model {
        if let config = GPT2Config.named(spec) {
            let model = try GPT2Model(config: config, trainable: trainable, adapter: adapter)
            model.initializeRandomly(seed: UInt64(truncatingIfNeeded: seed))
            return model
        }
        return try HFCheckpoint.load(from: checkpointDirectory(spec), trainable: trainable, adapter: adapter)
    }

    /// `spec` with the PEFT adapter in directory `adapter` applied, frozen (nil: `spec` alone).
    public static func frozenModel(_ spec: String, adapter: String?, seed: Int) throws -> GPT2Model {
        let lora = try adapter.map { try PEFTAdapter.load(from: URL(fileURLWithPath: $0), config: modelConfig(spec)) }
        return try model(spec, seed: seed, trainable: false, adapter: lora)
    }

    /// `spec` with the PEFT adapter in directory `adapter` merged into its weights (W += scaling ·
    /// (B A)ᵀ, PEFT's `merge_and_unload`), frozen, and the adapter; for what runs the base weights
    /// alone (`GPT2Generator`, a saved checkpoint).
    public static func mergedModel(_ spec: String, adapter: String, seed: Int) throws -> (model: GPT2Model, adapter: LoRAAdapter) {
        let base = try model(spec, seed: seed, trainable: false)
        let lora = try PEFTAdapter.load(from: URL(fileURLWithPath: adapter), config: base.config)
        lora.merge(into: base)
        return (base, lora)
    }

    /// Whether `directory` holds a PEFT adapter (`adapter_config.json`) rather than a whole model.
    public static func isAdapterDirectory(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: URL(fileURLWithPath: directory).appendingPathComponent(PEFTAdapter.configFileName).path)
    }

    /// The shape of the model `spec` names (a size name or a checkpoint directory's `config.json`),
    /// without reading any weights.
    public static func modelConfig(_ spec: String) throws -> GPT2Config {
        if let config = GPT2Config.named(spec) { return config }
        return try HFConfigFile.read(checkpointDirectory(spec).appendingPathComponent("config.json"))
    }

    /// `spec` as a directory, or an error naming the size names it could have been.
    static func checkpointDirectory(_ spec: String) throws -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TrainingError("model \(spec) is neither a checkpoint directory nor a size name ("
                + GPT2Config.namedSizes.map(\.name).joined(separator: ", ") + ")")
        }
        return URL(fileURLWithPath: spec)
    }

    /// The tokenizer files to use: `explicit` if given; else the model directory's `tokenizer.json`
    /// or `vocab.json` + `merges.txt`; else GPT-2's bundled files.
    public static func tokenizerFiles(explicit: String?, model: String) throws -> [URL] {
        let candidates = [explicit, model].compactMap { $0 }.map(URL.init(fileURLWithPath:))
        for directory in candidates {
            let found = files(in: directory)
            if !found.isEmpty { return found }
            if directory.path == explicit {
                throw TrainingError("tokenizer \(directory.path) has neither tokenizer.json nor vocab.json + merges.txt")
            }
        }
        guard let bundled = GPT2Tokenizer.bundledGPT2Directory else {
            throw TrainingError("the bundled GPT-2 tokenizer files are missing from this build")
        }
        return files(in: bundled)
    }

    /// The tokenizer made from `files` (as returned by `tokenizerFiles`).
    public static func tokenizer(_ files: [URL]) throws -> GPT2Tokenizer {
        try GPT2Tokenizer(contentsOf: files[0].deletingLastPathComponent())
    }

    static func files(in directory: URL) -> [URL] {
        let manager = FileManager.default
        let json = directory.appendingPathComponent("tokenizer.json")
        if manager.fileExists(atPath: json.path) { return [json] }
        let pair = ["vocab.json", "merges.txt"].map(directory.appendingPathComponent)
        return pair.allSatisfy { manager.fileExists(atPath: $0.path) } ? pair : []
    }

    /// Reads and tokenizes one preference data file with the config's data settings (its first
    /// `max_samples` rows).
    public static func dataset(_ path: String, config: TrainingConfig, tokenizer: GPT2Tokenizer) throws -> PreferenceDataset {
        var settings = PreferenceDataSettings(format: config.dataFormat, maxLength: config.maxLength,
                                              truncationMode: config.truncationMode, maxSamples: config.maxSamples)
        if let template = config.chatTemplate { settings.chatTemplate = try ChatTemplate.load(URL(fileURLWithPath: template)) }
        return try requirePairs(PreferenceDataset.load(url: URL(fileURLWithPath: path), tokenizer: tokenizer, settings: settings),
                                path: path)
    }

    /// `dataset`, or an error when no pair of it is left (every row dropped), with its summary.
    public static func requirePairs(_ dataset: PreferenceDataset, path: String) throws -> PreferenceDataset {
        guard dataset.pairs.isEmpty else { return dataset }
        throw TrainingError("\(path): no pair is left to score: \(dataset.report.summary); raise max_length or use "
            + "truncation_mode keep_end")
    }
}
