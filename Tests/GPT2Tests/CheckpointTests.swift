import Foundation
import GPT2
import Safetensors
import XCTest

final class CheckpointTests: XCTestCase {
    let config = GPT2Config(nLayer: 2, nHead: 2, nEmbd: 8, nPositions: 16, vocabSize: 40)
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func randomModel(seed: UInt64 = 7) throws -> GPT2Model {
        let model = try GPT2Model(config: config)
        model.initializeRandomly(seed: seed)
        return model
    }

    /// Writes `config.json` and a safetensors file with the given (name, shape, values) tensors.
    func writeCheckpoint(_ tensors: [(String, [Int], [Float])]) throws {
        try HFConfigFile.write(config, to: directory.appendingPathComponent("config.json"))
        var writer = SafetensorsWriter(metadata: ["format": "pt"])
        for (name, shape, values) in tensors { try writer.add(name, shape: shape, floats: values) }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
    }

    func tensors(of model: GPT2Model, prefix: String = "transformer.") -> [(String, [Int], [Float])] {
        model.layout.tensors.map { t in
            (prefix + t.name, t.shape, Array(UnsafeBufferPointer(start: model.parameters.base + t.offset, count: t.count)))
        }
    }

    func assertRefused(_ expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HFCheckpoint.load(from: directory), file: file, line: line) { error in
            let message = "\(error)"
            for fragment in expected {
                XCTAssertTrue(message.contains(fragment), "«\(message)» should mention «\(fragment)»", file: file, line: line)
            }
        }
    }

    func testSaveThenLoadGivesIdenticalModel() throws {
        let model = try randomModel()
        try HFCheckpoint.save(model, to: directory)
        let loaded = try HFCheckpoint.load(from: directory)
        XCTAssertEqual(loaded.config, config)
        XCTAssertEqual(loaded.parameters.array, model.parameters.array)
        let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(file.metadata["format"], "pt", "transformers refuses safetensors without format=pt")
        XCTAssertTrue(file.tensorNames.allSatisfy { $0.hasPrefix("transformer.") })
        XCTAssertNil(file.info("lm_head.weight"), "a tied lm_head is not written, as GPT2LMHeadModel does")
    }

    func testNamesWithoutPrefixAndAttentionBuffersAndTiedHeadAreAccepted() throws {
        let model = try randomModel()
        var tensors = tensors(of: model, prefix: "")
        tensors.append(("h.0.attn.bias", [1, 1, 16, 16], [Float](repeating: 1, count: 256)))
        tensors.append(("h.1.attn.masked_bias", [], [-1e4]))
        tensors.append(("lm_head.weight", [40, 8], tensors[0].2))
        try writeCheckpoint(tensors)
        let loaded = try HFCheckpoint.load(from: directory)
        XCTAssertEqual(loaded.parameters.array, model.parameters.array)
    }

    func testUntiedHeadIsRefused() throws {
        var tensors = tensors(of: try randomModel())
        tensors.append(("lm_head.weight", [40, 8], tensors[0].2.map { $0 + 1 }))
        try writeCheckpoint(tensors)
        assertRefused(["lm_head.weight", "untied"])
    }

    func testWrongShapeIsRefusedWithBothNamesAndShapes() throws {
        var tensors = tensors(of: try randomModel())
        let index = tensors.firstIndex { $0.0 == "transformer.h.1.mlp.c_fc.weight" }!
        tensors[index] = (tensors[index].0, [32, 8], tensors[index].2)
        try writeCheckpoint(tensors)
        assertRefused(["transformer.h.1.mlp.c_fc.weight", "[32, 8]", "h.1.mlp.c_fc.weight", "[8, 32]", "n_embd=8"])
    }

    func testUnexpectedTensorIsRefused() throws {
        var tensors = tensors(of: try randomModel())
        tensors.append(("transformer.h.2.ln_1.weight", [8], [Float](repeating: 1, count: 8)))
        try writeCheckpoint(tensors)
        assertRefused(["unexpected tensor transformer.h.2.ln_1.weight", "[8]", "n_layer=2"])
    }

    func testMissingTensorIsRefused() throws {
        let tensors = tensors(of: try randomModel()).filter { $0.0 != "transformer.ln_f.bias" }
        try writeCheckpoint(tensors)
        assertRefused(["missing tensors ln_f.bias"])
    }

    func testUnsupportedConfigIsRefused() throws {
        try HFCheckpoint.save(try randomModel(), to: directory)
        let url = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["activation_function"] = "relu"
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        assertRefused(["activation_function", "relu"])
        json["activation_function"] = "gelu_new"
        json["n_head"] = 3
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        assertRefused(["n_embd (8) must be divisible by n_head (3)"])
    }

    /// On Linux every `NSNumber` equal to 0 or 1 also reads as a `Bool`: a one-layer model's
    /// `"n_layer": 1` must load, and a JSON `true` where an integer belongs must not.
    func testIntegersZeroAndOneAreNotTakenForBooleans() throws {
        let oneLayer = GPT2Config(nLayer: 1, nHead: 2, nEmbd: 8, nPositions: 16, vocabSize: 40)
        let model = try GPT2Model(config: oneLayer)
        model.initializeRandomly(seed: 3)
        try HFCheckpoint.save(model, to: directory)
        XCTAssertEqual(try HFCheckpoint.load(from: directory).config, oneLayer)
        let url = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        json["n_layer"] = true
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        assertRefused(["\"n_layer\" must be an integer, got true"])
    }

    func testMissingWeightsFileIsRefused() throws {
        try HFConfigFile.write(config, to: directory.appendingPathComponent("config.json"))
        assertRefused(["missing model.safetensors"])
    }

    func testFloat16SaveRoundsEachWeightToHalfPrecision() throws {
        let model = try randomModel()
        try HFCheckpoint.save(model, to: directory, dtype: .f16)
        let loaded = try HFCheckpoint.load(from: directory)
        let original = model.parameters.array, halved = loaded.parameters.array
        XCTAssertNotEqual(original, halved)
        for (a, b) in zip(original, halved) { XCTAssertEqual(a, b, accuracy: abs(a) * 1e-3 + 1e-7) }
    }
}
