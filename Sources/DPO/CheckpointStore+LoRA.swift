import Foundation
import GPT2

extension CheckpointStore {
    /// The policy a checkpoint holds: its Hugging Face model, or in a LoRA checkpoint (one with
    /// `adapter_config.json`) the base model `config.model` with the saved adapter, which must
    /// fit that model and have the LoRA settings `config` (the checkpoint's trainer state) records.
    static func loadPolicy(_ directory: URL, config: TrainingConfig) throws -> GPT2Model {
        let adapterConfig = directory.appendingPathComponent(PEFTAdapter.configFileName)
        let holdsAdapter = FileManager.default.fileExists(atPath: adapterConfig.path)
        switch (holdsAdapter, config.loraSettings) {
        case (false, nil):
            return try HFCheckpoint.load(from: directory)
        case let (false, settings?):
            throw TrainingError("\(directory.path) has no \(PEFTAdapter.configFileName), yet its trainer_state.json records "
                + "a LoRA run (\(describe(settings))): not a whole LoRA checkpoint")
        case (true, nil):
            throw TrainingError("\(adapterConfig.path): the checkpoint holds a LoRA adapter, yet its trainer_state.json "
                + "records a run that trains every weight (lora_r 0): not a checkpoint of one run")
        case let (true, settings?):
            let adapter = try loadAdapter(directory, settings: settings, model: config.model)
            return try RunInputs.model(config.model, seed: config.seed, trainable: true, adapter: adapter)
        }
    }

    /// A LoRA checkpoint's `reference_adapter/` (the frozen adapter its reference runs with), or
    /// nil when it has none.
    static func loadReferenceAdapter(_ directory: URL, config: TrainingConfig) throws -> LoRAAdapter? {
        let url = directory.appendingPathComponent(referenceAdapterDirectory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let settings = config.loraSettings else {
            throw TrainingError("\(url.path): a reference adapter in the checkpoint of a run that trains every weight (lora_r 0)")
        }
        return try loadAdapter(url, settings: settings, model: config.model)
    }

    /// The PEFT adapter in `directory` for `model`, refused (naming the file) when its settings are
    /// not `settings`.
    static func loadAdapter(_ directory: URL, settings: LoRASettings, model: String) throws -> LoRAAdapter {
        let adapter = try PEFTAdapter.load(from: directory, config: RunInputs.modelConfig(model))
        guard sameAdapterSettings(adapter.settings, settings) else {
            throw TrainingError("\(directory.appendingPathComponent(PEFTAdapter.configFileName).path) describes an adapter with "
                + "\(describe(adapter.settings)), but the run's trainer_state.json records \(describe(settings))")
        }
        return adapter
    }

    /// Whether two LoRA settings (nil: none) describe the same adapter, `target_modules` compared
    /// as a set (as PEFT keeps them).
    static func sameAdapterSettings(_ a: LoRASettings?, _ b: LoRASettings?) -> Bool {
        func normal(_ settings: LoRASettings?) -> LoRASettings? {
            settings.map { var sorted = $0; sorted.targets.sort(); return sorted }
        }
        return normal(a) == normal(b)
    }

    /// LoRA settings in a message: r, alpha, targets, dropout, rslora.
    static func describe(_ settings: LoRASettings) -> String {
        "r \(settings.rank), alpha \(settings.alpha), targets \(settings.targets.joined(separator: ",")), "
            + "dropout \(settings.dropout)" + (settings.useRSLoRA ? ", rslora" : "")
    }
}
