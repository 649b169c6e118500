import Foundation
import GPT2
import Safetensors
import XCTest

/// PEFT's adapter files: dpo-ddp reads what PEFT 0.21.2 wrote (`Fixtures/lora/starting_adapter`),
/// writes the same keys, shapes, dtype, metadata and bytes, and refuses files it cannot use with
/// the file and the cause.
final class PEFTAdapterFileTests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }
    var startingAdapter: URL { fixtures.appendingPathComponent("lora/starting_adapter") }
    var baseConfig: GPT2Config { get throws { try HFConfigFile.read(fixtures.appendingPathComponent("trl/model/config.json")) } }

    /// A safetensors file's header and data section, parsed here by the format's definition
    /// (8-byte little-endian length, JSON), independently of the Safetensors module.
    func header(_ url: URL) throws -> (entries: [String: [String: Any]], metadata: [String: String]?, data: Data) {
        let bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + length))) as? [String: Any])
        let metadata = json.removeValue(forKey: "__metadata__") as? [String: String]
        return (try json.mapValues { try XCTUnwrap($0 as? [String: Any]) }, metadata, bytes.subdata(in: (8 + length)..<bytes.count))
    }

    /// The bytes of tensor `name` in a parsed file.
    func tensorBytes(_ file: (entries: [String: [String: Any]], metadata: [String: String]?, data: Data), _ name: String) throws -> Data {
        let offsets = try XCTUnwrap(file.entries[name]?["data_offsets"] as? [Int])
        return file.data.subdata(in: offsets[0]..<offsets[1])
    }

    func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("peft-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// PEFT's file loads with its settings, every tensor in place; saved again, it has exactly
    /// PEFT's keys, shapes, dtype, metadata and tensor bytes, a config PEFT rebuilds the same
    /// LoRA from, and loads back equal.
    func testRoundTripOfPEFTsOwnFile() throws {
        let adapter = try PEFTAdapter.load(from: startingAdapter, config: try baseConfig)
        XCTAssertEqual(adapter.settings, LoRASettings(rank: 4, alpha: 8, targets: ["c_attn", "c_proj", "c_fc"]))
        XCTAssertFalse(adapter.isIdentity, "the fixture's B is not zero")
        let peft = try header(startingAdapter.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(peft.entries.count, 16)
        for tensor in adapter.layout.tensors {
            let key = "base_model.model." + tensor.name
            let bytes = try tensorBytes(peft, key)
            let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: adapter.parameters.base + tensor.offset, count: tensor.count)), values, key)
        }

        let directory = temporaryDirectory()
        try PEFTAdapter.save(adapter, to: directory, baseModel: "trl/model")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)),
                       ["adapter_config.json", "adapter_model.safetensors"])
        let ours = try header(directory.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(ours.metadata, ["format": "pt"])
        XCTAssertEqual(peft.metadata, ["format": "pt"])
        XCTAssertEqual(Set(ours.entries.keys), Set(peft.entries.keys))
        for (key, entry) in peft.entries {
            XCTAssertEqual(ours.entries[key]?["shape"] as? [Int], entry["shape"] as? [Int], key)
            XCTAssertEqual(ours.entries[key]?["dtype"] as? String, "F32", key)
            XCTAssertEqual(try tensorBytes(ours, key), try tensorBytes(peft, key), key)
        }
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("adapter_config.json"))) as? [String: Any])
        let theirs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: startingAdapter.appendingPathComponent("adapter_config.json"))) as? [String: Any])
        for key in ["peft_type", "task_type", "r", "lora_alpha", "fan_in_fan_out", "lora_dropout", "use_rslora", "bias",
                    "base_model_name_or_path", "use_dora", "init_lora_weights"] {
            XCTAssertNotNil(theirs[key], key)
            XCTAssertEqual(config[key] as? NSObject, theirs[key] as? NSObject, key)  // NSNumber: 0 equals 0.0
        }
        XCTAssertEqual(Set(try XCTUnwrap(config["target_modules"] as? [String])), Set(try XCTUnwrap(theirs["target_modules"] as? [String])))
        let again = try PEFTAdapter.load(from: directory, config: try baseConfig)
        XCTAssertEqual(again.settings, adapter.settings)
        XCTAssertEqual(again.parameters.array, adapter.parameters.array)
    }

    /// rslora, dropout and a non-integer alpha survive a round trip.
    func testSettingsRoundTrip() throws {
        let settings = LoRASettings(rank: 2, alpha: 3.5, targets: ["mlp.c_proj", "h.1.attn.c_attn"], dropout: 0.25, useRSLoRA: true)
        let adapter = try LoRAAdapter(config: try baseConfig, settings: settings)
        adapter.initializeRandomly(seed: 5)
        let directory = temporaryDirectory()
        try PEFTAdapter.save(adapter, to: directory, baseModel: "base")
        let loaded = try PEFTAdapter.load(from: directory, config: try baseConfig)
        XCTAssertEqual(loaded.settings, settings)
        XCTAssertEqual(loaded.parameters.array, adapter.parameters.array)
    }

    /// Copies PEFT's adapter to a new directory, with `edit` applied to its config and the weights
    /// written by `weights` (nil: PEFT's file); returns the error message loading it gives.
    func loadError(config edit: (inout [String: Any]) -> Void = { _ in },
                   weights: ((LoRAAdapter) throws -> SafetensorsWriter)? = nil) throws -> String {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: startingAdapter.appendingPathComponent("adapter_config.json"))) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("adapter_config.json"))
        let weightsURL = directory.appendingPathComponent("adapter_model.safetensors")
        if let weights {
            try weights(try PEFTAdapter.load(from: startingAdapter, config: try baseConfig)).write(to: weightsURL)
        } else {
            try FileManager.default.copyItem(at: startingAdapter.appendingPathComponent("adapter_model.safetensors"), to: weightsURL)
        }
        do {
            _ = try PEFTAdapter.load(from: directory, config: try baseConfig)
        } catch {
            return "\(error)"
        }
        XCTFail("loaded")
        return ""
    }

    /// PEFT's tensors as a writer, each tensor passed through `change` (nil drops it).
    func writer(_ adapter: LoRAAdapter, _ change: (String, [Int], [Float]) -> (name: String, shape: [Int], values: [Float], dtype: SafetensorsDType)?) throws -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for tensor in adapter.layout.tensors {
            let values = Array(UnsafeBufferPointer(start: adapter.parameters.base + tensor.offset, count: tensor.count))
            if let t = change("base_model.model." + tensor.name, tensor.shape, values) {
                try writer.add(t.name, shape: t.shape, floats: t.values, dtype: t.dtype)
            }
        }
        return writer
    }

    /// Every refusal names the file and the cause.
    func testBadFilesAreRefusedWithTheFileAndTheCause() throws {
        let config = "adapter_config.json: ", weights = "adapter_model.safetensors: "
        let cAttnB = "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"
        let cases: [(String, String)] = [
            (try loadError(config: { $0["peft_type"] = "IA3" }), config + "peft_type is \"IA3\"; only LoRA adapters"),
            (try loadError(config: { $0.removeValue(forKey: "peft_type") }), config + "no \"peft_type\""),
            (try loadError(config: { $0["bias"] = "all" }), config + "bias is \"all\"; only \"none\""),
            (try loadError(config: { $0["use_dora"] = true }), config + "\"use_dora\" is true: this LoRA variant is not supported"),
            (try loadError(config: { $0["rank_pattern"] = ["c_attn": 2] }), config + "\"rank_pattern\""),
            (try loadError(config: { $0["target_modules"] = ["c_attn", "attn"] }), config + "lora_targets: 'attn' is not a Conv1D layer"),
            (try loadError(config: { $0["target_modules"] = ".*c_attn" }), config + "target_modules is the pattern"),
            (try loadError(config: { $0["r"] = 0 }), config + "lora_r (PEFT's r) must be at least 1, got 0"),
            (try loadError(config: { $0["target_modules"] = ["c_attn"] }),
             weights + "unexpected tensor base_model.model.transformer.h.0.attn.c_proj.lora_A.weight"),
            (try loadError(config: { $0["r"] = 2 }), weights + "tensor base_model.model.transformer.h.0.attn.c_attn.lora_A.weight has shape [4, 32] but must be [2, 32]"),
            (try loadError(weights: { try self.writer($0) { $0 == cAttnB ? nil : ($0, $1, $2, .f32) } }), weights + "missing tensors " + cAttnB),
            (try loadError(weights: { try self.writer($0) { $0 == cAttnB ? ($0, [4, 96], $2, .f32) : ($0, $1, $2, .f32) } }),
             weights + "tensor \(cAttnB) has shape [4, 96] but must be [96, 4]"),
            (try loadError(weights: { try self.writer($0) { ($0.replacingOccurrences(of: "base_model.model.", with: ""), $1, $2, .f32) } }),
             weights + "unexpected tensor transformer.h.0.attn.c_attn.lora_A.weight"),
        ]
        for (message, expected) in cases {
            XCTAssertTrue(message.contains(expected), "expected '\(expected)' in: \(message)")
        }
        let empty = temporaryDirectory()
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try PEFTAdapter.load(from: empty, config: try baseConfig)) {
            XCTAssertTrue("\($0)".contains(config + "cannot read the adapter config"), "\($0)")
        }
        try FileManager.default.copyItem(at: startingAdapter.appendingPathComponent("adapter_config.json"),
                                         to: empty.appendingPathComponent("adapter_config.json"))
        XCTAssertThrowsError(try PEFTAdapter.load(from: empty, config: try baseConfig)) {
            XCTAssertTrue("\($0)".contains(weights + "missing"), "\($0)")
        }
    }

    /// F16 and BF16 tensors are read (converted exactly); integer tensors are refused.
    func testHalfPrecisionFilesLoadAndOtherDTypesAreRefused() throws {
        let peft = try PEFTAdapter.load(from: startingAdapter, config: try baseConfig)
        for dtype in [SafetensorsDType.bf16, .f16] {
            let directory = temporaryDirectory()
            try PEFTAdapter.save(peft, to: directory, baseModel: "trl/model")
            try writer(peft) { ($0, $1, $2, dtype) }.write(to: directory.appendingPathComponent("adapter_model.safetensors"))
            let loaded = try PEFTAdapter.load(from: directory, config: try baseConfig)
            // Half-precision rounding: relative 2^-8 (bf16) or 2^-11 (f16) of each value (|B| ≤ 2, |A| ≤ 0.18).
            for (x, y) in zip(loaded.parameters.array, peft.parameters.array) { XCTAssertEqual(x, y, accuracy: abs(y) / 256 + 1e-7) }
            XCTAssertNotEqual(loaded.parameters.array, [Float](repeating: 0, count: peft.parameters.count))
        }
        let message = try loadError(weights: { adapter in
            var w = try self.writer(adapter) { $0.hasSuffix("h.0.attn.c_attn.lora_A.weight") ? nil : ($0, $1, $2, .f32) }
            let a = try XCTUnwrap(adapter.layout.tensors.first)
            var bytes: [Int64] = []
            for i in 0..<a.count { bytes.append(Int64(bitPattern: Double(adapter.parameters.base[i]).bitPattern)) }
            try w.add("base_model.model." + a.name, shape: a.shape, int64s: bytes)
            return w
        })
        XCTAssertTrue(message.contains("has dtype I64; adapters are F32, F16 or BF16"), message)
    }
}
