import Foundation

extension TrainingConfig {
    /// Whether the run trains a LoRA adapter (`lora_r` > 0, or an `adapter` to continue) instead
    /// of every weight.
    public var usesLoRA: Bool { loraR != 0 || adapter != nil }

    /// Refuses LoRA settings that cannot work (part of `validate`), naming the setting.
    func validateLoRASettings() throws {
        func fail(_ message: String) throws -> Never { throw TrainingError(message) }
        if loraR < 0 { try fail("lora_r must be >= 0 (0: train every weight, no adapter), got \(loraR)") }
        if !usesLoRA {
            let given = [("lora_alpha", loraAlpha != nil), ("lora_targets", loraTargets != nil),
                         ("lora_dropout", loraDropout != nil), ("use_rslora", useRslora != nil)].filter(\.1).map(\.0)
            if let first = given.first {
                try fail("\(first) has no effect without LoRA (lora_r is 0 and no adapter is given); set lora_r or drop \(first)")
            }
            return
        }
        if let alpha = loraAlpha, !(alpha > 0 && alpha.isFinite) { try fail("lora_alpha must be > 0, got \(alpha)") }
        if let dropout = loraDropout, !(dropout >= 0 && dropout < 1) {
            try fail("lora_dropout must be a probability in [0, 1), got \(dropout)")
        }
        if let targets = loraTargets, targets.isEmpty { try fail("lora_targets is empty: name at least one layer (c_attn, c_proj, c_fc)") }
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
    }
}
