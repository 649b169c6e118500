import DPO
import Foundation
import GPT2
import XCTest

/// A visible `checkpoint-N` is always whole, and a failed save leaves nothing behind.
final class CheckpointAtomicityTests: XCTestCase {
    /// Two checkpoints of the tiny run (steps 1 and 2) in `directory`, and what step 3's holds.
    func twoCheckpoints(_ run: TinyRun, output: String) throws -> (store: URL, contents: (Int) throws -> CheckpointStore.Contents) {
        try run.train(run.config(output: output) { $0.maxSteps = 2; $0.saveSteps = 1 })
        let directory = run.directory.appendingPathComponent(output)
        let saved = try CheckpointStore.load(directory.appendingPathComponent("checkpoint-2"))
        let tokenizerFiles = try ["vocab.json", "merges.txt"].map { name in
            let copy = run.directory.appendingPathComponent(name)
            try FileManager.default.copyItem(at: directory.appendingPathComponent("checkpoint-2/\(name)"), to: copy)
            return copy
        }
        let contents = { (step: Int) throws -> CheckpointStore.Contents in
            var state = saved.state
            state.step = step
            let optimizer = AdamW(layout: saved.model.layout, settings: AdamWSettings())
            let moments = try saved.optimizer.moments(of: optimizer.range)
            moments.m.withUnsafeBufferPointer { m in
                moments.v.withUnsafeBufferPointer { v in optimizer.restore(m: m, v: v, stepCount: saved.optimizer.stepCount) }
            }
            return CheckpointStore.Contents(
                model: saved.model, optimizer: optimizer, reference: nil, state: state,
                tokenizerFiles: tokenizerFiles)
        }
        return (directory, contents)
    }

    /// A save that fails half-way (here a tokenizer file that vanished, as a full disk fails a
    /// write) removes its `.checkpoint-N.partial`, which would otherwise keep the disk full.
    func testFailedSaveRemovesItsPartialDirectory() throws {
        let run = try TinyRun()
        let (directory, contents) = try twoCheckpoints(run, output: "out")
        var broken = try contents(3)
        broken.tokenizerFiles.append(run.directory.appendingPathComponent("vanished.json"))
        XCTAssertThrowsError(try CheckpointStore(directory: directory).save(broken, keep: nil))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(names.filter { $0.contains("partial") }, [], "\(names)")
        XCTAssertEqual(CheckpointStore(directory: directory).steps(), [1, 2])
    }

    /// A kill while old checkpoints are being pruned (simulated by a deletion that stops after
    /// removing one file) leaves every visible checkpoint loadable; the next save removes the rest.
    func testInterruptedPruningLeavesOnlyWholeCheckpointsVisible() throws {
        let run = try TinyRun()
        let (directory, contents) = try twoCheckpoints(run, output: "out")
        struct Killed: Error {}
        let interrupted = CheckpointStore(directory: directory) { doomed in
            try FileManager.default.removeItem(at: doomed.appendingPathComponent("model.safetensors"))
            throw Killed()
        }
        XCTAssertThrowsError(try interrupted.save(try contents(3), keep: 1))
        let store = CheckpointStore(directory: directory)
        for step in store.steps() {
            XCTAssertNoThrow(try CheckpointStore.load(store.url(step: step)), "checkpoint-\(step) is visible but not whole")
        }
        XCTAssertEqual(store.steps(), [2, 3])
        try store.save(try contents(4), keep: 1)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".checkpoint") }, [],
                       "the next save removes what the interrupted one left")
        XCTAssertEqual(store.steps(), [4])
    }

    /// Saving a step that already has a checkpoint replaces it whole.
    func testSavingAnExistingStepReplacesIt() throws {
        let run = try TinyRun()
        let (directory, contents) = try twoCheckpoints(run, output: "out")
        var again = try contents(2)
        again.state.tokensSeen = 12345
        try CheckpointStore(directory: directory).save(again, keep: nil)
        XCTAssertEqual(try CheckpointStore.load(directory.appendingPathComponent("checkpoint-2")).state.tokensSeen, 12345)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
            .filter { $0 != RunDirectoryLock.fileName }, [])
    }
}
