import DPO
import Foundation
import GPT2
import XCTest

/// What a resumed run may and may not change.
final class ResumeRulesTests: XCTestCase {
    /// Resuming with another model would train the checkpoint's weights against a reference
    /// rebuilt from that other model: refused, naming both models and their shapes.
    func testResumeWithAnotherModelIsRefusedWithNamesAndShapes() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "a") { $0.maxSteps = 2; $0.saveSteps = 1 })
        let other = run.config(output: "a") { $0.maxSteps = 2; $0.model = "gpt2-tiny" }
        XCTAssertThrowsError(try run.train(other, resume: "latest")) {
            let message = "\($0)"
            XCTAssertTrue(message.contains("was trained from model \(run.modelDirectory.path) (n_layer=2, n_head=2, n_embd=16, "
                + "n_positions=64"), message)
            XCTAssertTrue(message.contains("this run names model gpt2-tiny (n_layer=2, n_head=2, n_embd=64, n_positions=256"), message)
        }
        let otherReference = run.config(output: "a") { $0.maxSteps = 2; $0.refModel = run.modelDirectory.path }
        XCTAssertThrowsError(try run.train(otherReference, resume: "latest")) {
            XCTAssertTrue("\($0)".contains("ref_model (unset -> \(run.modelDirectory.path))"), "\($0)")
        }
    }
}
