import DPO
import Foundation
import XCTest

final class ConfigValidationTests: XCTestCase {
    func assertRefused(_ change: (inout TrainingConfig) -> Void, _ fragment: String, worldSize: Int = 1,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try TinyRun()
        let config = run.config(output: "x", change)
        XCTAssertThrowsError(try config.validate(worldSize: worldSize), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(fragment), "«\($0)» should contain «\(fragment)»", file: file, line: line)
        }
    }

    func testInvalidSettingsAreRefusedBeforeAnyWork() throws {
        try assertRefused({ $0.beta = 0 }, "beta")
        try assertRefused({ $0.beta = -1 }, "beta")
        try assertRefused({ $0.batchSize = 8; $0.microBatchSize = 3 }, "batch_size 8 is not a whole number of micro-batches")
        try assertRefused({ $0.batchSize = 6 }, "multiple of micro_batch_size (1) x ranks (4)", worldSize: 4)
        try assertRefused({ $0.data = "/nonexistent/pairs.jsonl" }, "data: /nonexistent/pairs.jsonl does not exist")
        try assertRefused({ $0.loss = ["sigmoid", "dpo++"] }, "unknown loss type dpo++")
        try assertRefused({ $0.learningRate = 0 }, "learning_rate must be > 0")
        try assertRefused({ $0.labelSmoothing = 0.7 }, "label")
        try assertRefused({ $0.model = "gpt5" }, "model: gpt5 is neither")
        try assertRefused({ $0.loss = ["simpo"]; $0.precomputeRef = true }, "precompute_ref has nothing to do")
        try assertRefused({ $0.zero = 3 }, "zero must be 0 (every rank holds all optimiser state), 1")
        try assertRefused({ $0.zero = -1 }, "zero must be 0")
        try assertRefused({ $0.bucketCapMB = -1 }, "bucket_cap_mb must be >= 0")
        try assertRefused({ $0.referenceFree = true; $0.refModel = $0.model }, "reference_free and ref_model conflict")
    }

    func testValidConfigPasses() throws {
        let run = try TinyRun()
        XCTAssertNoThrow(try run.config(output: "ok").validate(worldSize: 1))
        XCTAssertNoThrow(try run.config(output: "ok") { $0.microBatchSize = 2 }.validate(worldSize: 2))
        XCTAssertNoThrow(try run.config(output: "ok") { $0.zero = 1; $0.bucketCapMB = 0 }.validate(worldSize: 2))
    }
}
