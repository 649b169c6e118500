import Distributed
import TestSupport
import XCTest

/// Runs `dpo-ddp mpi-check` for real: alone (local world), and under `mpirun` on 2 and 3 ranks.
final class MPICheckSmokeTests: XCTestCase {
    /// Longest a run may take before it is killed and the test fails.
    private let timeout: TimeInterval = 60

    /// This process's environment with what `mpirun` needs as root, and single-threaded BLAS.
    private var mpiEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        return environment
    }

    func testTwoRanksPassEveryCheck() throws {
        let outcome = try runUnderMPIRun(ranks: 2, ["mpi-check", "--chunk-count", "1000"])
        let checks = ["allreduce ok", "non-blocking allreduce and reduce ok (3001 elements, chunks of 1000)",
                      "bfloat16 allreduce and reduce ok (rounded to nearest even, 3001 elements)", "allgather and gather ok (shards [1501, 1500])", "broadcast ok (3001 bytes from root 1)",
                      "invalid root rejected: MPI_Ibcast failed: MPI_ERR_ROOT", "barrier ok"]
        assertSucceeded(outcome, printing: (0..<2).flatMap { rank in checks.map { "rank \(rank)/2: \($0)" } })
    }

    /// Uneven shards of 8, 7, 7 elements in chunks of 7: two rounds of gathers, the second of one element.
    func testThreeRanksWithTinyChunksPass() throws {
        let outcome = try runUnderMPIRun(ranks: 3, ["mpi-check", "--chunk-count", "7"])
        let checks = ["allreduce ok", "non-blocking allreduce and reduce ok (22 elements, chunks of 7)",
                      "bfloat16 allreduce and reduce ok (rounded to nearest even, 22 elements)", "allgather and gather ok (shards [8, 7, 7])", "broadcast ok (22 bytes from root 2)", "barrier ok"]
        assertSucceeded(outcome, printing: (0..<3).flatMap { rank in checks.map { "rank \(rank)/3: \($0)" } })
    }

    func testAWrongContributionAbortsTheJobWithAMessage() throws {
        let outcome = try runUnderMPIRun(ranks: 2, ["mpi-check", "--faulty-rank", "1"])
        XCTAssertFalse(outcome.timedOut, outcome.output)
        XCTAssertNotEqual(outcome.status, 0, outcome.output)
        XCTAssertTrue(outcome.output.contains(": mpi-check: Float sum is 4.0 at index 0, expected 3.0"),
                      outcome.output)
        XCTAssertFalse(outcome.output.contains("allreduce ok"), outcome.output)
    }

    func testWithoutLauncherChecksTheLocalWorldWithoutMPI() throws {
        var environment = mpiEnvironment
        for variable in CommunicatorFactory.launcherVariables + ["SLURM_PROCID"] {
            environment[variable] = nil
        }
        let outcome = try ProcessRunner.run(
            try builtDPODDP(), ["mpi-check", "--chunk-count", "3"], environment: environment,
            timeout: timeout)
        assertSucceeded(outcome, printing: [
            "rank 0/1: allreduce ok",
            "rank 0/1: non-blocking allreduce and reduce ok (10 elements, chunks of 3)",
            "rank 0/1: allgather and gather ok (shards [10])",
            "rank 0/1: broadcast ok (10 bytes from root 0)",
            "rank 0/1: invalid root rejected: broadcast failed: root 1 is not a rank",
            "rank 0/1: barrier ok",
        ])
    }

    /// Runs `mpirun -np <ranks> --oversubscribe dpo-ddp <arguments>`.
    private func runUnderMPIRun(ranks: Int, _ arguments: [String]) throws -> ProcessOutcome {
        let mpirun = try XCTUnwrap(
            ProcessRunner.findOnPath("mpirun"),
            "mpirun is not on PATH; install Open MPI (apt-get install -y openmpi-bin libopenmpi-dev)")
        return try ProcessRunner.run(
            mpirun, ["-np", "\(ranks)", "--oversubscribe", try builtDPODDP().path] + arguments,
            environment: mpiEnvironment, timeout: timeout)
    }

    /// The `dpo-ddp` executable of this build, or a failure saying where it was looked for.
    private func builtDPODDP() throws -> URL {
        let url = ProcessRunner.dpoDDP
        return try XCTUnwrap(FileManager.default.isExecutableFile(atPath: url.path) ? url : nil,
                             "dpo-ddp is not built at \(url.path)")
    }

    /// Fails once, listing every problem and then the output, unless the run finished in time,
    /// exited 0, and printed each of `lines`.
    private func assertSucceeded(
        _ outcome: ProcessOutcome, printing lines: [String], file: StaticString = #filePath,
        line: UInt = #line
    ) {
        var problems: [String] = []
        if outcome.timedOut {
            problems.append("ran over \(timeout) s and was killed")
        }
        if outcome.status != 0 {
            problems.append("exited with status \(outcome.status)")
        }
        problems += lines.filter { !outcome.output.contains($0) }.map { "did not print '\($0)'" }
        if !problems.isEmpty {
            XCTFail(problems.joined(separator: "; ") + "; output:\n" + outcome.output, file: file, line: line)
        }
    }
}
