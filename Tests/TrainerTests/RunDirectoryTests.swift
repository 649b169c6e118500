import DPO
import Foundation
import TestSupport
import XCTest

/// One run per output directory: a live run's lock, and a new run that would mix with an old one.
final class RunDirectoryTests: XCTestCase {
    /// A second run on a directory whose lock is held is refused at once, naming the holder's PID;
    /// once the holder is gone the directory is usable again.
    func testSecondRunOnALockedDirectoryIsRefusedNamingThePID() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var holder: RunDirectoryLock? = try RunDirectoryLock(directory: output)
        XCTAssertThrowsError(try run.train(run.config(output: "locked"))) {
            XCTAssertTrue("\($0)".contains("in use by another run (PID \(getpid()) on "), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("metrics.jsonl").path),
                       "the refused run must not touch the directory")
        XCTAssertNotNil(holder)
        holder = nil
        XCTAssertNoThrow(try run.train(run.config(output: "locked")))
    }

    /// The built binary, as users meet it: a second `train` on the directory of a live one exits
    /// non-zero at once naming the first one's PID; after the first is killed with SIGKILL (its lock
    /// file left behind), the lock is taken over by a resumed run.
    func testLiveRunBlocksASecondAndAKilledRunsLockIsTakenOver() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("shared")
        func arguments(steps: Int) -> [String] {
            ["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-length", "64",
             "--batch-size", "8", "--max-steps", "\(steps)", "--save-steps", "1", "--save-total-limit", "1",
             "--output-dir", output.path]
        }
        let first = Process()
        first.executableURL = ProcessRunner.dpoDDP
        first.arguments = arguments(steps: 100_000)
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let deadline = Date().addingTimeInterval(60)
        while CheckpointStore(directory: output).latest() == nil && Date() < deadline && first.isRunning {
            Thread.sleep(forTimeInterval: 0.02)
        }
        XCTAssertTrue(first.isRunning, "the first run ended early")

        let second = try ProcessRunner.run(ProcessRunner.dpoDDP, arguments(steps: 100_000) + ["--resume", "latest"],
                                           environment: ProcessInfo.processInfo.environment, timeout: 60)
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.output.contains("is in use by another run (PID \(first.processIdentifier) on "), second.output)
        XCTAssertTrue(first.isRunning, "the refused run must leave the live one alone")

        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(RunDirectoryLock.fileName).path))
        let next = try ProcessRunner.run(ProcessRunner.dpoDDP, arguments(steps: 1) + ["--overwrite-output-dir"],
                                         environment: ProcessInfo.processInfo.environment, timeout: 60)
        XCTAssertEqual(next.status, 0, next.output)
        XCTAssertEqual(CheckpointStore(directory: output).steps(), [1])
    }

    /// A new run into a directory holding another run's checkpoints and metrics is refused (they
    /// would mix: `--resume latest` could pick the old run's newer checkpoint), and replaces them
    /// with `--overwrite-output-dir`.
    func testFreshRunIntoAnOldRunIsRefusedUnlessOverwriting() throws {
        let run = try TinyRun()
        try run.train(run.config(output: "out") { $0.maxSteps = 4; $0.saveSteps = 2 })
        let output = run.directory.appendingPathComponent("out")
        XCTAssertEqual(CheckpointStore(directory: output).steps(), [2, 4])
        let metricsBefore = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)

        XCTAssertThrowsError(try run.train(run.config(output: "out") { $0.maxSteps = 1 })) {
            XCTAssertTrue("\($0)".contains("already holds a run (checkpoint-2, checkpoint-4, final, metrics.jsonl)"), "\($0)")
            XCTAssertTrue("\($0)".contains("--resume latest") && "\($0)".contains("--overwrite-output-dir"), "\($0)")
        }
        XCTAssertEqual(try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8), metricsBefore,
                       "a refused run leaves the old metrics whole")
        XCTAssertEqual(CheckpointStore(directory: output).steps(), [2, 4])

        try run.train(run.config(output: "out") { $0.maxSteps = 1; $0.overwriteOutputDir = true })
        XCTAssertEqual(CheckpointStore(directory: output).steps(), [1], "the old run's checkpoints are gone")
        XCTAssertEqual(try TinyRun.records(output).count, 1)
    }

    /// The embedded default may be run again and again (`scripts/run`): its config overwrites its
    /// own run directory (here shortened to one SFT and one DPO step, in a temporary directory).
    func testEmbeddedDefaultCanBeRunTwice() throws {
        let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../configs/default.yaml").standardizedFileURL
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("default-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        for _ in 0..<2 {
            let outcome = try ProcessRunner.run(
                ProcessRunner.dpoDDP, ["train", "--config", config.path, "--output-dir", output.path,
                                       "--sft-steps", "1", "--max-steps", "1"],
                environment: ProcessInfo.processInfo.environment, timeout: 120)
            XCTAssertEqual(outcome.status, 0, outcome.output)
        }
    }
}
