import DPO
import Foundation
import TestSupport
import XCTest

/// The built `dpo-ddp train` as users run it: config files, errors, and being killed.
final class CommandLineTests: XCTestCase {
    func train(_ arguments: [String], timeout: TimeInterval = 120) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, ["train"] + arguments,
                              environment: ProcessInfo.processInfo.environment, timeout: timeout)
    }

    func testConfigFileWithCommandLineOverride() throws {
        let run = try TinyRun()
        let yaml = run.directory.appendingPathComponent("run.yaml")
        try """
            model: model
            data: pairs.jsonl
            batch_size: 8
            max_steps: 2
            learning_rate: 0.01
            lr_scheduler: constant
            logging_steps: 1
            output_dir: out
            loss: [sigmoid]
            """.write(to: yaml, atomically: true, encoding: .utf8)
        let outcome = try train(["--config", yaml.path, "--beta", "0.2"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let resolved = try String(contentsOf: run.directory.appendingPathComponent("out/resolved_config.yaml"), encoding: .utf8)
        XCTAssertTrue(resolved.contains("beta: 0.2\n"), resolved)
        XCTAssertTrue(resolved.contains("data: \"\(run.dataURL.path)\"\n"), "paths are resolved against the config file: \(resolved)")
        XCTAssertEqual(try TinyRun.records(run.directory.appendingPathComponent("out")).count, 2)
    }

    func testUnknownConfigKeyIsRefusedWithFileAndKey() throws {
        let run = try TinyRun()
        let yaml = try run.configFile("bad.yaml", "data: pairs.jsonl\nlearnin_rate: 0.1\n")
        let outcome = try train(["--config", yaml.path])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.output.contains("\(yaml.path):2: unknown key learnin_rate (did you mean learning_rate?)"), outcome.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.directory.appendingPathComponent("runs").path))
    }

    func testInvalidValueIsRefusedBeforeAnyWork() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("never")
        let outcome = try train(["--model", run.modelDirectory.path, "--data", run.dataURL.path, "--beta", "-1",
                                 "--output-dir", output.path])
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertTrue(outcome.output.contains("beta"), outcome.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.path), "nothing may be written for a bad config")
    }

    /// SIGKILL at arbitrary moments of a run that checkpoints every step (so most of its time is
    /// spent writing checkpoints): whatever is left, the latest checkpoint loads and resumes.
    func testKillDuringSaveLeavesTheLatestCheckpointLoadable() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("killed")
        let arguments = ["train", "--model", "gpt2-mini", "--data", run.dataURL.path, "--batch-size", "8",
                         "--max-steps", "1000", "--save-steps", "1", "--save-total-limit", "2", "--output-dir", output.path]
        for delay in [0.05, 0.3, 0.55] {
            let process = Process()
            process.executableURL = ProcessRunner.dpoDDP
            let before = CheckpointStore(directory: output).steps().last ?? 0
            process.arguments = arguments + (before > 0 ? ["--resume", "latest"] : [])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait for this run's first new checkpoint, then kill it a moment later, in the
            // middle of the following steps' saves.
            let deadline = Date().addingTimeInterval(60)
            while (CheckpointStore(directory: output).steps().last ?? 0) <= before && Date() < deadline && process.isRunning {
                Thread.sleep(forTimeInterval: 0.01)
            }
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
            let latest = try XCTUnwrap(CheckpointStore(directory: output).latest(), "no checkpoint")
            XCTAssertGreaterThan(CheckpointStore(directory: output).steps().last ?? 0, before)
            XCTAssertNoThrow(try CheckpointStore.load(latest), latest.path)
        }
        let partials = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasSuffix(".partial") }
        print("kill test: checkpoints \(CheckpointStore(directory: output).steps()), partial leftovers \(partials)")
    }
}
