import DPO
import Foundation
import TestSupport
import XCTest

/// The LoRA settings of `train` (docs/lora.md): refused before any work when they cannot work,
/// read from YAML (a list or a comma-separated string) and the command line alike.
final class LoRAOptionTests: XCTestCase {
    func assertRefused(_ change: (inout TrainingConfig) -> Void, _ fragment: String,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TinyRun()
        XCTAssertThrowsError(try run.config(output: "x", change).validate(worldSize: 1), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(fragment), "«\($0)» should contain «\(fragment)»", file: file, line: line)
        }
    }

    func testInvalidLoRASettingsAreRefusedBeforeAnyWork() throws {
        try assertRefused({ $0.loraR = -4 }, "lora_r must be >= 0 (0: train every weight, no adapter), got -4")
        try assertRefused({ $0.loraR = 4; $0.loraAlpha = 0 }, "lora_alpha must be > 0, got 0.0")
        try assertRefused({ $0.loraR = 4; $0.loraAlpha = -8 }, "lora_alpha must be > 0, got -8.0")
        try assertRefused({ $0.loraR = 4; $0.loraDropout = 1 }, "lora_dropout must be a probability in [0, 1), got 1.0")
        try assertRefused({ $0.loraR = 4; $0.loraTargets = [] }, "lora_targets is empty")
        try assertRefused({ $0.loraAlpha = 8 }, "lora_alpha has no effect without LoRA (lora_r is 0 and no adapter is given)")
        try assertRefused({ $0.loraTargets = ["c_fc"] }, "lora_targets has no effect without LoRA")
        try assertRefused({ $0.useRslora = true }, "use_rslora has no effect without LoRA")
        try assertRefused({ $0.adapter = "/nonexistent/adapter" }, "adapter: /nonexistent/adapter is not a directory")
        try assertRefused({ $0.loraR = 4; $0.syncRefModel = true },
                          "sync_ref_model does not work with LoRA: TRL 1.16 raises NotImplementedError")
    }

    /// LoRA with a `ref_model` is allowed (that model is the reference), as is any loss.
    func testLoRAWithRefModelAndOtherLossesPasses() throws {
        let run = try TinyRun()
        XCTAssertNoThrow(try run.config(output: "ok") { $0.loraR = 4 }.validate(worldSize: 1))
        XCTAssertNoThrow(try run.config(output: "ok") { $0.loraR = 4; $0.refModel = $0.model }.validate(worldSize: 1))
        XCTAssertNoThrow(try run.config(output: "ok") { $0.loraR = 4; $0.loss = ["ipo"]; $0.precomputeRef = true }.validate(worldSize: 1))
    }
}
