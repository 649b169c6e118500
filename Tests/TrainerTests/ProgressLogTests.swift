import Foundation
import TestSupport
import XCTest

/// The progress line of `train`: redrawn in place on a terminal, but one plain line per logged
/// step in a log, also under `mpirun`, whose ranks write to a pseudo-terminal even when its own
/// output goes to a file.
final class ProgressLogTests: XCTestCase {
    static let steps = 3

    func arguments(_ run: TinyRun) -> [String] {
        ["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-steps", "\(Self.steps)",
         "--logging-steps", "1", "--save-steps", "0", "--threads", "1", "--output-dir", run.directory.appendingPathComponent("out").path]
    }

    func testOnePlainLinePerStepUnderMPIRunIntoAFile() throws {
        let mpirun = try XCTUnwrap(ProcessRunner.findOnPath("mpirun"), "mpirun is not on PATH: apt-get install -y openmpi-bin libopenmpi-dev")
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        let run = try TinyRun()
        // ProcessRunner sends mpirun's output to a file, as `mpirun ... > log` does.
        let outcome = try ProcessRunner.run(mpirun, ["-np", "2", "--oversubscribe", ProcessRunner.dpoDDP.path] + arguments(run),
                                            environment: environment, timeout: 120)
        XCTAssertFalse(outcome.timedOut, outcome.output)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        XCTAssertFalse(outcome.output.contains("\r"), "carriage return in the log: \(outcome.output.debugDescription)")
        XCTAssertFalse(outcome.output.contains("\u{1B}"), "escape sequence in the log: \(outcome.output.debugDescription)")
        let stepLines = outcome.output.split(separator: "\n").filter { $0.hasPrefix("step ") }
        XCTAssertEqual(stepLines.map { $0.split(separator: " ").prefix(2).joined(separator: " ") },
                       (1...Self.steps).map { "step \($0)/\(Self.steps)" }, outcome.output)
    }

    /// The other side: on a terminal (a pseudo-terminal made by `script`) the line is redrawn.
    func testRedrawnInPlaceOnATerminal() throws {
        guard let script = ProcessRunner.findOnPath("script") else { throw XCTSkip("script (util-linux) is not on PATH") }
        let run = try TinyRun()
        let command = ([ProcessRunner.dpoDDP.path] + arguments(run)).map { "'\($0)'" }.joined(separator: " ")
        let outcome = try ProcessRunner.run(script, ["-qec", command, "/dev/null"],
                                            environment: ProcessInfo.processInfo.environment, timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        XCTAssertTrue(outcome.output.contains("\r\u{1B}[Kstep 2/\(Self.steps)"), outcome.output.debugDescription)
    }
}
