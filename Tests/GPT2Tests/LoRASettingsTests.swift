import GPT2
import XCTest

/// LoRA settings and the adapter's layout: PEFT's scaling, target matching and tensor shapes.
final class LoRASettingsTests: XCTestCase {
    let config = GPT2Config(nLayer: 3, nHead: 2, nEmbd: 8, nPositions: 16, vocabSize: 32, nInner: 20)

    /// alpha / r, or alpha / sqrt(r) with rslora (PEFT's layer.py), rounded once to Float.
    func testScaling() {
        XCTAssertEqual(LoRASettings(rank: 16, alpha: 32, targets: ["c_attn"]).scaling, 2)
        XCTAssertEqual(LoRASettings(rank: 16, alpha: 32, targets: ["c_attn"], useRSLoRA: true).scaling, 8)
        XCTAssertEqual(LoRASettings(rank: 3, alpha: 1, targets: ["c_attn"]).scaling, Float(1.0 / 3.0))
        XCTAssertEqual(LoRASettings(rank: 3, alpha: 1, targets: ["c_attn"], useRSLoRA: true).scaling, Float(1 / 3.0.squareRoot()))
    }

    /// Each bad field is refused with its name; PEFT's suffix names are accepted.
    func testValidationNamesTheBadField() {
        func error(_ settings: LoRASettings) -> String? {
            do { try settings.validate(); return nil } catch { return error.description }
        }
        let good = LoRASettings(rank: 4, alpha: 8, targets: LoRASettings.defaultTargets)
        XCTAssertNil(error(good))
        var s = good
        s.rank = 0
        XCTAssertTrue(error(s)?.hasPrefix("lora_r") ?? false, error(s) ?? "accepted r 0")
        s = good
        s.alpha = 0
        XCTAssertTrue(error(s)?.hasPrefix("lora_alpha") ?? false, error(s) ?? "accepted alpha 0")
        s.alpha = .nan
        XCTAssertTrue(error(s)?.hasPrefix("lora_alpha") ?? false, error(s) ?? "accepted alpha nan")
        s = good
        s.dropout = 1
        XCTAssertTrue(error(s)?.hasPrefix("lora_dropout") ?? false, error(s) ?? "accepted dropout 1")
        s.dropout = -0.1
        XCTAssertTrue(error(s)?.hasPrefix("lora_dropout") ?? false, error(s) ?? "accepted dropout -0.1")
        s = good
        s.targets = []
        XCTAssertTrue(error(s)?.hasPrefix("lora_targets") ?? false, error(s) ?? "accepted no targets")
        for bad in ["attn", "ln_1", "lm_head", "wte", "proj", "c_projx", "mlp.c_attn", "h.x.attn.c_attn", "h.01.mlp.c_fc",
                    "model.transformer.h.0.attn.c_attn", ".c_attn", ""] {
            s.targets = ["c_attn", bad]
            XCTAssertTrue(error(s)?.contains("'\(bad)' is not a Conv1D layer") ?? false, "\(bad): \(error(s) ?? "accepted")")
        }
        for ok in ["c_attn", "c_proj", "c_fc", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj", "h.2.attn.c_proj",
                   "transformer.h.0.mlp.c_proj", "0.mlp.c_fc"] {
            s.targets = [ok]
            XCTAssertNil(error(s), ok)
        }
    }

    /// Block-major order (c_attn, attn.c_proj, c_fc, mlp.c_proj; A then B), PEFT's names and
    /// shapes (A [r, in], B [out, r]), contiguous offsets; `c_proj` selects both projections.
    func testLayoutOfDefaultTargets() throws {
        let layout = try LoRALayout(config: config, settings: LoRASettings(rank: 2, alpha: 4, targets: LoRASettings.defaultTargets))
        var expected: [(String, [Int])] = []
        for l in 0..<3 {
            let p = "transformer.h.\(l)."
            expected += [(p + "attn.c_attn.lora_A.weight", [2, 8]), (p + "attn.c_attn.lora_B.weight", [24, 2]),
                         (p + "attn.c_proj.lora_A.weight", [2, 8]), (p + "attn.c_proj.lora_B.weight", [8, 2]),
                         (p + "mlp.c_fc.lora_A.weight", [2, 8]), (p + "mlp.c_fc.lora_B.weight", [20, 2]),
                         (p + "mlp.c_proj.lora_A.weight", [2, 20]), (p + "mlp.c_proj.lora_B.weight", [8, 2])]
        }
        XCTAssertEqual(layout.tensors.map(\.name), expected.map(\.0))
        XCTAssertEqual(layout.tensors.map(\.shape), expected.map(\.1))
        var offset = 0
        for tensor in layout.tensors {
            XCTAssertEqual(tensor.offset, offset, tensor.name)
            XCTAssertTrue(tensor.decays)
            offset += tensor.count
        }
        // Per layer r·(in + out): 2·(8+24) + 2·(8+8) + 2·(8+20) + 2·(20+8) = 208, per block.
        XCTAssertEqual(layout.count, 3 * 208)
        XCTAssertEqual(layout.blocks.map(\.start), [0, 208, 416])
        let fc = try XCTUnwrap(layout.blocks[1][.mlpCFc])
        XCTAssertEqual(fc.a, layout.tensor(named: "transformer.h.1.mlp.c_fc.lora_A.weight")?.offset)
        XCTAssertEqual(fc.b, layout.tensor(named: "transformer.h.1.mlp.c_fc.lora_B.weight")?.offset)
        XCTAssertEqual([fc.inFeatures, fc.outFeatures], [8, 20])
    }

    /// The paper's count for the default targets at r 16 (docs/lora.md: 16·r·d·L for n_inner 4d).
    func testGPT2AdapterSizes() throws {
        for (name, expected) in [("gpt2", 2_359_296), ("gpt2-xl", 19_660_800)] {
            let layout = try LoRALayout(config: GPT2Config.named(name)!,
                                        settings: LoRASettings(rank: 16, alpha: 32, targets: LoRASettings.defaultTargets))
            XCTAssertEqual(layout.count, expected, name)
        }
    }

    /// Longer suffixes select single layers and blocks; overlapping targets adapt a layer once;
    /// a block index beyond n_layer is refused with the model's shape.
    func testSuffixTargetsSelectSingleLayers() throws {
        let layout = try LoRALayout(config: config, settings: LoRASettings(
            rank: 1, alpha: 1, targets: ["mlp.c_proj", "h.1.attn.c_attn", "transformer.h.1.mlp.c_proj"]))
        XCTAssertEqual(layout.blocks.map { $0.layers.map(\.layer) }, [[.mlpCProj], [.attnCAttn, .mlpCProj], [.mlpCProj]])
        XCTAssertEqual(layout.adaptedLayers, [.attnCAttn, .mlpCProj])
        let only = try LoRALayout(config: config, settings: LoRASettings(rank: 1, alpha: 1, targets: ["h.2.attn.c_proj"]))
        XCTAssertEqual(only.blocks.map(\.start), [0, 0, 0])
        XCTAssertEqual(only.count, 16)
        XCTAssertThrowsError(try LoRALayout(config: config, settings: LoRASettings(rank: 1, alpha: 1, targets: ["h.3.mlp.c_fc"]))) {
            XCTAssertTrue("\($0)".contains("'h.3.mlp.c_fc' selects no layer of a model with n_layer=3"), "\($0)")
        }
    }
}
