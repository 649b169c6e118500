import FileErrors
import Foundation
import Safetensors

/// PEFT's adapter directory (`PeftModel.save_pretrained`): `adapter_config.json` and
/// `adapter_model.safetensors`, keys `base_model.model.` + the `LoRALayout` tensor names, A
/// `[r, in]` and B `[out, r]` (see docs/lora.md for every fact used here).
public enum PEFTAdapter {
    /// The file names PEFT reads and writes.
    public static let configFileName = "adapter_config.json", weightsFileName = "adapter_model.safetensors"
    /// The prefix of every key in PEFT's file for a `CAUSAL_LM` (or task-less) `PeftModel`.
    public static let keyPrefix = "base_model.model."

    /// `adapter_config.json` fields that change the model in ways dpo-ddp does not implement:
    /// each must be absent, null, false or empty.
    static let unsupportedFields = ["use_dora", "lora_bias", "rank_pattern", "alpha_pattern", "layers_to_transform",
                                    "modules_to_save", "exclude_modules", "target_parameters", "layer_replication",
                                    "trainable_token_indices", "alora_invocation_tokens", "use_qalora", "use_bdlora"]

    /// Reads an adapter for a model of `config`. Refuses, naming the file and the cause: a missing
    /// file, a `peft_type` other than `LORA`, `bias` other than `none`, a field of
    /// `unsupportedFields` in use, `target_modules` that are not GPT-2 `Conv1D` layers, missing,
    /// unexpected or mis-shaped tensors, dtypes other than F32, F16 and BF16 (converted to F32).
    public static func load(from directory: URL, config: GPT2Config) throws -> LoRAAdapter {
        let configURL = directory.appendingPathComponent(configFileName)
        let settings = try readSettings(configURL)
        let adapter: LoRAAdapter
        do {
            adapter = try LoRAAdapter(config: config, settings: settings)
        } catch {
            throw CheckpointError(configURL, error.description)
        }
        let weightsURL = directory.appendingPathComponent(weightsFileName)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let pickle = FileManager.default.fileExists(atPath: directory.appendingPathComponent("adapter_model.bin").path)
            throw CheckpointError(weightsURL, pickle
                ? "missing (adapter_model.bin is never read: pickle is unsafe; re-save with safe_serialization=True)"
                : "missing: an adapter directory holds adapter_config.json and adapter_model.safetensors")
        }
        try copyTensors(SafetensorsFile(contentsOf: weightsURL), into: adapter, url: weightsURL)
        return adapter
    }

    /// `adapter_config.json` as settings (PEFT's `LoraConfig` defaults for absent fields).
    static func readSettings(_ url: URL) throws -> LoRASettings {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        } catch {
            throw CheckpointError(url, "cannot read the adapter config: \(FileError.cause(of: error))")
        }
        guard let json = object as? [String: Any] else { throw CheckpointError(url, "the adapter config is not a JSON object") }
        guard let type = json["peft_type"] as? String else {
            throw CheckpointError(url, "no \"peft_type\": not a PEFT adapter config")
        }
        guard type == "LORA" else { throw CheckpointError(url, "peft_type is \"\(type)\"; only LoRA adapters (\"LORA\") are supported") }
        if let bias = json["bias"], !(bias is NSNull), bias as? String != "none" {
            throw CheckpointError(url, "bias is \(jsonText(bias)); only \"none\" is supported (LoRA without trained biases)")
        }
        for field in unsupportedFields {
            if let value = json[field], isInUse(value) {
                throw CheckpointError(url, "\"\(field)\" is \(jsonText(value)): this LoRA variant is not supported")
            }
        }
        func number(_ key: String, default value: Double) throws -> Double {
            switch json[key] {
            case nil, is NSNull: return value
            case let n as NSNumber where !isJSONBoolean(n): return n.doubleValue
            default: throw CheckpointError(url, "\"\(key)\" must be a number, got \(jsonText(json[key]!))")
            }
        }
        let r = try number("r", default: 8)
        guard r == r.rounded(), abs(r) < 1e9 else { throw CheckpointError(url, "\"r\" must be an integer, got \(r)") }
        let targets: [String]
        switch json["target_modules"] {
        case nil, is NSNull: targets = ["c_attn"]  // PEFT's default for GPT-2 (constants.py)
        case let list as [String]: targets = list
        case let pattern as String:
            throw CheckpointError(url, "target_modules is the pattern \"\(pattern)\"; only a list of module names is supported")
        default: throw CheckpointError(url, "\"target_modules\" must be a list of module names")
        }
        var rslora = false
        switch json["use_rslora"] {
        case nil, is NSNull: break
        case let flag as NSNumber where isJSONBoolean(flag): rslora = flag.boolValue
        default: throw CheckpointError(url, "\"use_rslora\" must be true or false")
        }
        let settings = LoRASettings(rank: Int(r), alpha: try number("lora_alpha", default: 8), targets: targets,
                                    dropout: try number("lora_dropout", default: 0), useRSLoRA: rslora)
        do {
            try settings.validate()
        } catch {
            throw CheckpointError(url, error.description)
        }
        return settings
    }

    /// A JSON value as JSON text, for messages.
    static func jsonText(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]))
            .flatMap { String(data: $0, encoding: .utf8) } ?? "\(value)"
    }

    /// Whether a JSON value of an unsupported field asks for something (not null, false or empty).
    static func isInUse(_ value: Any) -> Bool {
        switch value {
        case is NSNull: false
        case let n as NSNumber: n.boolValue
        case let list as [Any]: !list.isEmpty
        case let map as [String: Any]: !map.isEmpty
        case let text as String: !text.isEmpty
        default: true
        }
    }

    /// Copies every tensor of `file` into `adapter`, checking names, shapes and dtypes against its layout.
    static func copyTensors(_ file: SafetensorsFile, into adapter: LoRAAdapter, url: URL) throws {
        var loaded = Set<String>()
        for key in file.tensorNames {
            let info = file.info(key)!
            guard key.hasPrefix(keyPrefix), let tensor = adapter.layout.tensor(named: String(key.dropFirst(keyPrefix.count))) else {
                throw CheckpointError(url, "unexpected tensor \(key): not an adapter tensor of target_modules "
                    + "\(adapter.settings.targets) on a model with \(adapter.config.shapeDescription)")
            }
            guard info.shape == tensor.shape else {
                throw CheckpointError(url, "tensor \(key) has shape \(info.shape) but must be \(tensor.shape) "
                    + "(r = \(adapter.settings.rank), model \(adapter.config.shapeDescription))")
            }
            guard [.f32, .f16, .bf16].contains(info.dtype) else {
                throw CheckpointError(url, "tensor \(key) has dtype \(info.dtype.rawValue); adapters are F32, F16 or BF16")
            }
            try file.copyFloats(key, into: UnsafeMutableBufferPointer(start: adapter.parameters.base + tensor.offset,
                                                                      count: tensor.count))
            loaded.insert(tensor.name)
        }
        let missing = adapter.layout.tensors.map(\.name).filter { !loaded.contains($0) }
        guard missing.isEmpty else {
            throw CheckpointError(url, "missing tensors " + missing.prefix(5).map { keyPrefix + $0 }.joined(separator: ", ")
                + (missing.count > 5 ? " and \(missing.count - 5) more" : "") + " for target_modules \(adapter.settings.targets)")
        }
    }

    /// Writes `adapter_config.json` (every field docs/lora.md lists, `base_model_name_or_path` =
    /// `baseModel`) and `adapter_model.safetensors` (float32, metadata `{"format": "pt"}`) into
    /// `directory` (created if needed), each through a temporary file and a rename; no README.
    public static func save(_ adapter: LoRAAdapter, to directory: URL, baseModel: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for tensor in adapter.layout.tensors {
            try writer.add(keyPrefix + tensor.name, shape: tensor.shape,
                           borrowing: UnsafeBufferPointer(start: adapter.parameters.base + tensor.offset, count: tensor.count))
        }
        let weights = directory.appendingPathComponent(weightsFileName)
        let temporary = directory.appendingPathComponent(".\(weightsFileName).partial")
        try writer.write(to: temporary)
        guard rename(temporary.path, weights.path) == 0 else {
            throw CheckpointError(weights, "cannot rename \(temporary.lastPathComponent) into place: " + String(cString: strerror(errno)))
        }
        let data = try JSONSerialization.data(withJSONObject: configObject(adapter.settings, baseModel: baseModel),
                                              options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try data.write(to: directory.appendingPathComponent(configFileName), options: .atomic)
    }

    /// The `adapter_config.json` object of `settings`: what PEFT needs to rebuild the same model
    /// (its defaults differ: r 8, alpha 8, `c_attn` only, `fan_in_fan_out` false).
    static func configObject(_ settings: LoRASettings, baseModel: String) -> [String: Any] {
        let alpha: Any = settings.alpha == settings.alpha.rounded() && abs(settings.alpha) < 1e15
            ? Int(settings.alpha) : settings.alpha
        return [
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": baseModel,
            "r": settings.rank,
            "lora_alpha": alpha,
            "target_modules": settings.targets,
            "fan_in_fan_out": true,
            "lora_dropout": settings.dropout,
            "use_rslora": settings.useRSLoRA,
            "bias": "none",
            "init_lora_weights": true,
            "inference_mode": true,
            "use_dora": false,
            "lora_bias": false,
            "modules_to_save": NSNull(),
            "layers_to_transform": NSNull(),
            "layers_pattern": NSNull(),
            "rank_pattern": [String: Any](),
            "alpha_pattern": [String: Any](),
            "revision": NSNull(),
        ]
    }
}
