import Foundation
import GPT2

extension TrainingConfig {
    /// Whether the run trains a LoRA adapter (`lora_r` > 0, or an `adapter` to continue) instead
    /// of every weight.
    public var usesLoRA: Bool { loraR != 0 || adapter != nil }

    /// The run's LoRA settings (unset ones at their defaults: alpha 2r, targets c_attn, c_proj,
    /// c_fc, no dropout, no rslora), or nil when it trains every weight. With `adapter` they are
    /// the adapter's once `adoptAdapterSettings()` has read them.
    public var loraSettings: LoRASettings? {
        guard loraR > 0 else { return nil }
        return LoRASettings(rank: loraR, alpha: loraAlpha ?? 2 * Double(loraR), targets: loraTargets ?? LoRASettings.defaultTargets,
                            dropout: loraDropout ?? 0, useRSLoRA: useRslora ?? false)
    }

    /// With `adapter`, reads it (for a model of `model`'s shape) and makes its settings the run's
    /// (`lora_r`, `lora_alpha`, `lora_targets`, `lora_dropout`, `use_rslora` all set), refusing
    /// one given here that disagrees with its `adapter_config.json`, naming both. Returns the
    /// adapter read, or nil without `adapter`.
    @discardableResult
    public mutating func adoptAdapterSettings() throws -> LoRAAdapter? {
        guard let adapter else { return nil }
        let directory = URL(fileURLWithPath: adapter)
        let loaded = try PEFTAdapter.load(from: directory, config: RunInputs.modelConfig(model))
        let saved = loaded.settings
        let file = directory.appendingPathComponent(PEFTAdapter.configFileName).path
        func check(_ key: String, given: String?, _ peftKey: String, saved: String) throws {
            guard let given, given != saved else { return }
            throw TrainingError("\(key) \(given) disagrees with the adapter \(file), whose \(peftKey) is \(saved): "
                + "drop \(key) (the adapter's settings are used) or give the adapter's value")
        }
        try check("lora_r", given: loraR == 0 ? nil : "\(loraR)", "r", saved: "\(saved.rank)")
        try check("lora_alpha", given: loraAlpha.map { "\($0)" }, "lora_alpha", saved: "\(saved.alpha)")
        // PEFT keeps target_modules as a set: the order in either place means nothing.
        try check("lora_targets", given: loraTargets.map { $0.sorted().joined(separator: ",") }, "target_modules",
                  saved: saved.targets.sorted().joined(separator: ","))
        try check("lora_dropout", given: loraDropout.map { "\($0)" }, "lora_dropout", saved: "\(saved.dropout)")
        try check("use_rslora", given: useRslora.map { "\($0)" }, "use_rslora", saved: "\(saved.useRSLoRA)")
        loraR = saved.rank
        loraAlpha = saved.alpha
        loraTargets = saved.targets
        loraDropout = saved.dropout
        useRslora = saved.useRSLoRA
        return loaded
    }

    /// Refuses LoRA settings that cannot work (part of `validate`), naming the setting.
    func validateLoRASettings() throws {
        func fail(_ message: String) throws -> Never { throw TrainingError(message) }
        if loraR < 0 { try fail("lora_r must be >= 0 (0: train every weight, no adapter), got \(loraR)") }
        guard usesLoRA else {
            let given = [("lora_alpha", loraAlpha != nil), ("lora_targets", loraTargets != nil),
                         ("lora_dropout", loraDropout != nil), ("use_rslora", useRslora != nil)].filter(\.1).map(\.0)
            if let first = given.first {
                try fail("\(first) has no effect without LoRA (lora_r is 0 and no adapter is given); set lora_r or drop \(first)")
            }
            return
        }
        if let adapter {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: adapter, isDirectory: &isDirectory) || !isDirectory.boolValue {
                try fail("adapter: \(adapter) is not a directory (a PEFT adapter: adapter_config.json + adapter_model.safetensors)")
            }
        }
        if syncRefModel {
            try fail("sync_ref_model does not work with LoRA: TRL 1.16 raises NotImplementedError for it with a PEFT model "
                + "(the reference is the base model, or the base with a frozen copy of the starting adapter); drop sync_ref_model or LoRA")
        }
        do {
            try loraSettings?.validate()
        } catch {
            try fail("\(error)")
        }
    }
}
