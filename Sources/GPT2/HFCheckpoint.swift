import Foundation
import Safetensors

/// GPT-2 checkpoints in Hugging Face's layout: `config.json` + `model.safetensors`, tensor names
/// as `GPT2LMHeadModel` uses them, `Conv1D` weights stored `[in, out]`, `lm_head` tied to `wte`.
public enum HFCheckpoint {
    /// Loads a checkpoint directory.
    ///
    /// Accepts tensor names with or without the `transformer.` prefix; ignores the attention-mask
    /// buffers `h.N.attn.bias` / `h.N.attn.masked_bias`; accepts `lm_head.weight` only when it
    /// equals `wte.weight`; converts F16/BF16/F64 to F32. Any unknown, missing or mis-shaped
    /// tensor is refused with its name and both shapes. With `adapter`, the model applies it
    /// (and, trainable, trains only it: see `GPT2Model(config:trainable:adapter:)`).
    public static func load(from directory: URL, trainable: Bool = true, adapter: LoRAAdapter? = nil) throws -> GPT2Model {
        let config = try HFConfigFile.read(directory.appendingPathComponent("config.json"))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let sharded = FileManager.default.fileExists(
                atPath: directory.appendingPathComponent("model.safetensors.index.json").path)
            throw CheckpointError(weightsURL, sharded
                ? "sharded checkpoints are not supported: re-save with one model.safetensors"
                : "missing model.safetensors (pytorch_model.bin is never read: pickle is unsafe)")
        }
        let file = try SafetensorsFile(contentsOf: weightsURL)
        let model = try GPT2Model(config: config, trainable: trainable, adapter: adapter)
        try copy(file, into: model, url: weightsURL)
        return model
    }

    /// Copies every tensor of `file` into `model`, checking names and shapes against its layout.
    static func copy(_ file: SafetensorsFile, into model: GPT2Model, url: URL) throws {
        var loaded = Set<String>()
        var lmHead: String?
        for fileName in file.tensorNames {
            let name = fileName.hasPrefix("transformer.") ? String(fileName.dropFirst(12)) : fileName
            let shape = file.info(fileName)!.shape
            if isAttentionMaskBuffer(name) { continue }
            if name == "lm_head.weight" {
                lmHead = fileName
                continue
            }
            guard let tensor = model.layout.tensor(named: name) else {
                throw CheckpointError(url, "unexpected tensor \(fileName) \(shape) for a model with "
                    + model.config.shapeDescription)
            }
            guard tensor.shape == shape else {
                throw CheckpointError(url, "tensor \(fileName) has shape \(shape) but \(tensor.name) must be "
                    + "\(tensor.shape) for a model with \(model.config.shapeDescription)")
            }
            guard loaded.insert(name).inserted else {
                throw CheckpointError(url, "tensor \(name) appears twice (with and without the transformer. prefix)")
            }
            try file.copyFloats(fileName, into: UnsafeMutableBufferPointer(
                start: model.parameters.base + tensor.offset, count: tensor.count))
        }
        let missing = model.layout.tensors.map(\.name).filter { !loaded.contains($0) }
        guard missing.isEmpty else {
            throw CheckpointError(url, "missing tensors \(missing.prefix(5).joined(separator: ", "))"
                + (missing.count > 5 ? " and \(missing.count - 5) more" : "") + " for a model with "
                + model.config.shapeDescription)
        }
        if let lmHead {
            let wte = model.layout.tensors[0]
            let head = try file.floats(lmHead)
            let tied = head.count == wte.count && head.withUnsafeBufferPointer {
                $0.elementsEqual(UnsafeBufferPointer(start: model.parameters.base + wte.offset, count: wte.count))
            }
            guard tied else {
                throw CheckpointError(url, "\(lmHead) differs from wte.weight: untied output embeddings are not supported")
            }
        }
    }

    /// Writes `config.json` and `model.safetensors` into `directory` (created if needed), each
    /// through a temporary file and a rename. Tensors are named as `GPT2LMHeadModel` saves them
    /// (`transformer.` prefix, no `lm_head.weight`), stored as `dtype` (F32, F16 or BF16).
    public static func save(_ model: GPT2Model, to directory: URL, dtype: SafetensorsDType = .f32) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for tensor in model.layout.tensors {
            let name = "transformer." + tensor.name
            let values = UnsafeBufferPointer(start: model.parameters.base + tensor.offset, count: tensor.count)
            if dtype == .f32 {
                try writer.add(name, shape: tensor.shape, borrowing: values)
            } else {
                try writer.add(name, shape: tensor.shape, floats: values, dtype: dtype)
            }
        }
        let weights = directory.appendingPathComponent("model.safetensors")
        let temporary = directory.appendingPathComponent(".model.safetensors.partial")
        try writer.write(to: temporary)
        guard rename(temporary.path, weights.path) == 0 else {
            throw CheckpointError(weights, "cannot rename \(temporary.lastPathComponent) into place: "
                + String(cString: strerror(errno)))
        }
        let torchDType = ["F16": "float16", "BF16": "bfloat16"][dtype.rawValue] ?? "float32"
        try HFConfigFile.write(model.config, to: directory.appendingPathComponent("config.json"), torchDType: torchDType)
    }

    static func isAttentionMaskBuffer(_ name: String) -> Bool {
        let parts = name.split(separator: ".")
        return parts.count == 4 && parts[0] == "h" && Int(parts[1]) != nil && parts[2] == "attn"
            && (parts[3] == "bias" || parts[3] == "masked_bias")
    }
}
