import DPO
import Foundation
import GPT2
import TestSupport
import XCTest

/// `dpo-ddp train` under `mpirun` (oversubscribed on a 2-core machine): the split of the global
/// batch over ranks and micro-batches is invisible in the numbers, and faults end the job cleanly.
///
/// Tolerances `trajectoryTolerance` and `weightTolerance`: the only difference between splits is the
/// order float32 gradients are summed in; a wrongly scaled gradient or a mean of means is off by
/// far more. The same split resumed from a checkpoint must log exactly what it logged before.
final class MultiRankTests: XCTestCase {
    var mpirun: URL {
        get throws {
            try XCTUnwrap(ProcessRunner.findOnPath("mpirun"), "mpirun is not on PATH: apt-get install -y openmpi-bin libopenmpi-dev")
        }
    }

    var environment: [String: String] { ProcessRunner.mpiEnvironment }

    func arguments(_ run: TinyRun, output: String, _ extra: [String]) -> [String] {
        ["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--output-dir",
         run.directory.appendingPathComponent(output).path, "--learning-rate", "0.01", "--lr-scheduler", "constant",
         "--logging-steps", "1", "--save-steps", "0", "--max-grad-norm", "0.5", "--seed", "3", "--threads", "1"] + extra
    }

    /// Runs `dpo-ddp` on `ranks` ranks to completion.
    @discardableResult
    func train(_ run: TinyRun, ranks: Int, output: String, _ extra: [String], timeout: TimeInterval = 120) throws -> ProcessOutcome {
        let outcome = try ProcessRunner.run(
            try mpirun, ["-np", "\(ranks)", "--oversubscribe", ProcessRunner.dpoDDP.path] + arguments(run, output: output, extra),
            environment: environment, timeout: timeout)
        XCTAssertFalse(outcome.timedOut, outcome.output)
        return outcome
    }

    func finalWeights(_ run: TinyRun, _ output: String) throws -> [Float] {
        try HFCheckpoint.load(from: run.directory.appendingPathComponent("\(output)/final")).parameters.array
    }

    func layout(_ run: TinyRun) throws -> GPT2Layout {
        GPT2Layout(try HFConfigFile.read(run.modelDirectory.appendingPathComponent("config.json")))
    }

    func testOneTwoAndFourRanksTrainTheSameModel() throws {
        let run = try TinyRun()
        var records: [[[String: Any]]] = [], weights: [[Float]] = []
        for ranks in [1, 2, 4] {  // 1 x 4 micro-batches, 2 x 2, 4 x 1: always 8 pairs per step
            let outcome = try train(run, ranks: ranks, output: "np\(ranks)", ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "5"])
            XCTAssertEqual(outcome.status, 0, outcome.output)
            records.append(try TinyRun.records(run.directory.appendingPathComponent("np\(ranks)")))
            weights.append(try finalWeights(run, "np\(ranks)"))
        }
        for i in 1..<3 {
            assertSameMetrics(records[0], records[i], tolerance: trajectoryTolerance)
            XCTAssertLessThanOrEqual(maxTensorRelativeError(weights[i], weights[0], layout: try layout(run)), weightTolerance)
        }
    }

    func testOneRankOfSixteenEqualsFourRanksOfFour() throws {
        let run = try TinyRun()
        try XCTAssertEqual(train(run, ranks: 1, output: "a", ["--batch-size", "16", "--micro-batch-size", "16", "--max-steps", "3"]).status, 0)
        try XCTAssertEqual(train(run, ranks: 4, output: "b", ["--batch-size", "16", "--micro-batch-size", "4", "--max-steps", "3"]).status, 0)
        assertSameMetrics(try TinyRun.records(run.directory.appendingPathComponent("a")),
                          try TinyRun.records(run.directory.appendingPathComponent("b")), tolerance: trajectoryTolerance)
        XCTAssertLessThanOrEqual(maxTensorRelativeError(try finalWeights(run, "b"), try finalWeights(run, "a"), layout: try layout(run)), weightTolerance)
    }

    func testResumingATwoRankCheckpointOnOneAndFourRanks() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "6", "--save-steps", "3"]
        XCTAssertEqual(try train(run, ranks: 2, output: "whole", common).status, 0)
        let whole = try TinyRun.records(run.directory.appendingPathComponent("whole"))
        for ranks in [1, 4] {
            let resumed = run.directory.appendingPathComponent("resumed\(ranks)")
            try FileManager.default.createDirectory(at: resumed, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: run.directory.appendingPathComponent("whole/checkpoint-3"),
                                             to: resumed.appendingPathComponent("checkpoint-3"))
            let outcome = try train(run, ranks: ranks, output: "resumed\(ranks)", common + ["--resume", "latest"])
            XCTAssertEqual(outcome.status, 0, outcome.output)
            let records = try TinyRun.records(resumed)
            XCTAssertEqual(records.map { $0["step"] as? Int }, [4, 5, 6])
            assertSameMetrics(Array(whole.suffix(3)), records, tolerance: trajectoryTolerance)
        }
    }

    func testAnErrorOnOneRankEndsTheWholeJobWithItsMessage() throws {
        let run = try TinyRun()
        let start = Date()
        let outcome = try train(run, ranks: 2, output: "fail",
                                ["--batch-size", "8", "--max-steps", "50", "--debug", "--fail-at-step", "2", "--fail-rank", "1"],
                                timeout: 30)
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "the job must end within seconds")
        XCTAssertTrue(outcome.output.contains("rank 1: injected failure at step 2"), outcome.output)
    }

    /// Starts a run of `ranks` ranks in the background, its output to `log`; returns the mpirun process.
    func launch(_ run: TinyRun, output: String, _ extra: [String], ranks: Int = 2,
                log: FileHandle = .nullDevice) throws -> Process {
        let process = Process()
        process.executableURL = try mpirun
        process.arguments = ["-np", "\(ranks)", "--oversubscribe", ProcessRunner.dpoDDP.path] + arguments(run, output: output, extra)
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        return process
    }

    /// The PIDs of the ranks `mpirun` started.
    func ranks(of mpirun: Process) throws -> [Int32] {
        let pgrep = Process()
        pgrep.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        pgrep.arguments = ["-P", "\(mpirun.processIdentifier)"]
        let pipe = Pipe()
        pgrep.standardOutput = pipe
        try pgrep.run()
        pgrep.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").compactMap { Int32($0) }
    }

    /// Waits until the run directory's metrics.jsonl has `lines` lines (or 60 s pass).
    func waitForMetrics(_ url: URL, lines: Int) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: url.appendingPathComponent("metrics.jsonl"), encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= lines { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func testSIGTERMOnOneRankCheckpointsExitsZeroAndResumeCarriesOn() throws {
        let run = try TinyRun()
        // Long enough that the signal, sent after 3 logged steps, always lands before the end.
        let common = ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "120"]
        XCTAssertEqual(try train(run, ranks: 2, output: "whole", common).status, 0)
        let whole = try TinyRun.records(run.directory.appendingPathComponent("whole"))

        let output = run.directory.appendingPathComponent("stopped")
        let process = try launch(run, output: "stopped", common)
        waitForMetrics(output, lines: 3)
        let children = try ranks(of: process)
        XCTAssertEqual(children.count, 2)
        kill(try XCTUnwrap(children.last), SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "a signalled job stops cleanly")
        let steps = CheckpointStore(directory: output).steps()
        XCTAssertEqual(steps.count, 1)
        XCTAssertLessThan(steps[0], 120, "it stopped early")

        let outcome = try train(run, ranks: 2, output: "stopped", common + ["--resume", "latest"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        assertSameMetrics(whole, try TinyRun.records(output), tolerance: 0)
    }

    func testSIGKILLOfOneRankTakesTheJobDownAndTheLatestCheckpointLoads() throws {
        let run = try TinyRun()
        let output = run.directory.appendingPathComponent("killed")
        let process = try launch(run, output: "killed", ["--batch-size", "8", "--max-steps", "1000", "--save-steps", "1",
                                                         "--save-total-limit", "2"])
        let deadline = Date().addingTimeInterval(60)
        while CheckpointStore(directory: output).steps().count < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        kill(try XCTUnwrap(try ranks(of: process).first), SIGKILL)
        let killed = Date()
        process.waitUntilExit()
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertLessThan(Date().timeIntervalSince(killed), 10, "Open MPI ends the job when a rank dies")
        let latest = try XCTUnwrap(CheckpointStore(directory: output).latest())
        XCTAssertNoThrow(try CheckpointStore.load(latest))
    }
}
