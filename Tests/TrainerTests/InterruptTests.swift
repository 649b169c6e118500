import DPO
import Foundation
import TestSupport
import XCTest

/// Ctrl-C on a single-process run: the first SIGINT stops cleanly after a checkpoint, as SIGTERM
/// does; a second one ends the process at once.
final class InterruptTests: XCTestCase {
    /// A long run of the built binary (checkpoints only at its end or stop), returned once it has
    /// logged a step, so its stop handlers are installed; its output goes to `log`.
    func startLongRun(_ run: TinyRun, output: URL, log: URL) throws -> Process {
        let process = Process()
        process.executableURL = ProcessRunner.dpoDDP
        process.arguments = ["train", "--model", "gpt2-mini", "--data", run.dataURL.path, "--max-length", "64",
                             "--batch-size", "8", "--max-steps", "100000", "--save-steps", "0", "--logging-steps", "1",
                             "--output-dir", output.path]
        XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil))
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let metrics = output.appendingPathComponent("metrics.jsonl")
        let deadline = Date().addingTimeInterval(60)
        while ((try? Data(contentsOf: metrics))?.isEmpty ?? true) && Date() < deadline && process.isRunning {
            Thread.sleep(forTimeInterval: 0.01)
        }
        return process
    }

    /// Starts a long run, sends it SIGINT once or twice, waits for its end and returns
    /// it with its run directory and output (and the `TinyRun`, whose directory lives as long as it).
    func interrupt(times: Int) throws -> (process: Process, output: URL, text: String, run: TinyRun) {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("interrupted"), log = run.directory.appendingPathComponent("log")
        let process = try startLongRun(run, output: output, log: log)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        XCTAssertTrue(process.isRunning, "the run ended before the interrupt")
        kill(process.processIdentifier, SIGINT)
        if times == 2 {
            // The second only once the first was handled (its notice is out): two signals sent
            // before the handler runs would arrive as one.
            let deadline = Date().addingTimeInterval(30)
            while !((try? String(contentsOf: log, encoding: .utf8))?.contains("Ctrl-C again") ?? false) && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.001)
            }
            kill(process.processIdentifier, SIGINT)
        }
        process.waitUntilExit()
        return (process, output, try String(contentsOf: log, encoding: .utf8), run)
    }

    func testFirstInterruptCheckpointsAndExitsCleanly() throws {
        let (process, output, text, run) = try interrupt(times: 1)
        defer { withExtendedLifetime(run) {} }
        XCTAssertEqual(process.terminationReason, .exit, text)
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("press Ctrl-C again to quit at once"), text)
        let latest = try XCTUnwrap(CheckpointStore(directory: output).latest(), "the interrupt must leave a checkpoint: \(text)")
        let step = try CheckpointStore.load(latest).state.step
        XCTAssertTrue(text.contains("stopped by SIGINT (Ctrl-C) after step \(step): checkpoint \(latest.path)"), text)
    }

    func testSecondInterruptEndsTheProcessAtOnce() throws {
        let (process, _, text, _) = try interrupt(times: 2)
        XCTAssertEqual(process.terminationReason, .uncaughtSignal, text)
        XCTAssertEqual(process.terminationStatus, SIGINT)
    }
}
