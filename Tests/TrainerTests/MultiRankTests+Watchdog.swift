import Foundation
import XCTest

/// The collective watchdog under `mpirun`: a rank that stops making progress ends the job.
extension MultiRankTests {
    /// The `OMPI_COMM_WORLD_RANK` of process `pid` (from its environment), or nil.
    func worldRank(of pid: Int32) -> Int? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return nil }
        let prefix = "OMPI_COMM_WORLD_RANK="
        return data.split(separator: 0).lazy.map { String(decoding: $0, as: UTF8.self) }
            .first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }

    /// Rank 1 of 3 stopped with SIGSTOP (a stalled node: alive, holding its connections, never
    /// answering) leaves ranks 0 and 2 waiting in a collective; past `--collective-timeout` the
    /// job ends within the timeout plus 30 s, non-zero, and a waiting rank's message names the
    /// step, the collective and rank 1 as the rank that did not arrive.
    func testAStoppedRankEndsTheJobAfterTheCollectiveTimeout() throws {
        let run = try TinyRun()
        let logURL = run.directory.appendingPathComponent("log")
        XCTAssertTrue(FileManager.default.createFile(atPath: logURL.path, contents: nil))
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }
        let timeout = 5.0
        let output = run.directory.appendingPathComponent("stalled")
        let process = try launch(run, output: "stalled", ["--batch-size", "6", "--max-steps", "100000",
                                                          "--collective-timeout", "\(Int(timeout))"], ranks: 3, log: log)
        waitForMetrics(output, lines: 2)
        let children = try ranks(of: process)
        let stopped = try XCTUnwrap(children.first { worldRank(of: $0) == 1 }, "no rank 1 among \(children)")
        defer {
            for pid in children { kill(pid, SIGKILL) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        kill(stopped, SIGSTOP)
        let deadline = Date().addingTimeInterval(timeout + 30)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(process.isRunning, "the job must end within --collective-timeout + 30 s of the stop")
        if process.isRunning { return }
        XCTAssertNotEqual(process.terminationStatus, 0)
        let text = try String(contentsOf: logURL, encoding: .utf8)
        let message = try XCTUnwrap(text.split(separator: "\n").first { $0.contains("longer than --collective-timeout") },
                                    "no watchdog message in:\n\(text)")
        let expected = try Regex(#"^rank [02]: (end of )?step \d+: waited \d+ s in .*MPI_I[a-z]+.* \(collective \d+ of this run\)"#)
        XCTAssertNotNil(message.firstMatch(of: expected), String(message))
        XCTAssertTrue(message.contains("Ranks that did not arrive: 1 ("), String(message))
    }
}
