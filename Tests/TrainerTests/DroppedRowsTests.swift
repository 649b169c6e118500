import Foundation
import TestSupport
import XCTest

/// Rows dropped because their prompt fills `max_length` are never dropped silently: `logps` and
/// `eval` print the data summary `train` prints (to standard error), `inspect-data` lists their lines.
final class DroppedRowsTests: XCTestCase {
    /// Lines 2 and 5 of six have a prompt of 100 words (at least 100 tokens): at --max-length 32
    /// their prompt fills the sequence. The other prompts and answers take under 16 tokens.
    static let longPromptLines = [2, 5]

    func writeData(in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent("some-long.jsonl")
        let rows = (1...6).map { line -> String in
            let prompt = Self.longPromptLines.contains(line)
                ? String(repeating: "word ", count: 100) : "Question \(line): name an animal."
            let object = ["prompt": prompt, "chosen": " A cat.", "rejected": " A saw."]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        try (rows.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Runs `dpo-ddp` with `arguments`; returns its standard output and standard error apart.
    func dpoDDP(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let errorFile = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        let outcome = try ProcessRunner.run(URL(fileURLWithPath: "/bin/sh"),
                                            ["-c", "exec \"$0\" \"$@\" 2>\"\(errorFile.path)\"", ProcessRunner.dpoDDP.path] + arguments,
                                            environment: ProcessInfo.processInfo.environment, timeout: 120)
        return (outcome.status, outcome.output, try String(contentsOf: errorFile, encoding: .utf8))
    }

    func testInspectDataListsTheDroppedLines() throws {
        let run = try TinyRun()
        let data = try writeData(in: run.directory)
        let outcome = try dpoDDP(["inspect-data", "--data", data.path, "--max-length", "32"], in: run.directory)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("6 rows (standard), 4 pairs; 2 dropped (prompt fills max-length)"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("dropped (prompt fills max-length) at lines 2, 5\n"), outcome.stdout)
    }

    func testLogpsReportsDroppedRowsOnStandardError() throws {
        let run = try TinyRun()
        let data = try writeData(in: run.directory)
        let outcome = try dpoDDP(["logps", "--model", run.modelDirectory.path, "--data", data.path, "--max-length", "32"], in: run.directory)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("data \(data.path): 6 rows (standard), 4 pairs; 2 dropped (prompt fills max-length)"),
                      outcome.stderr)
        let lines = try outcome.stdout.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["line"] as? Int
        }
        XCTAssertEqual(lines, [1, 3, 4, 6], "standard output holds only the kept pairs' JSON lines")
    }

    func testEvalReportsDroppedRowsOnStandardError() throws {
        let run = try TinyRun()
        let data = try writeData(in: run.directory)
        let outcome = try dpoDDP(["eval", "--policy", run.modelDirectory.path, "--model", run.modelDirectory.path,
                                  "--data", data.path, "--max-length", "32", "--batch-size", "4"], in: run.directory)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("data \(data.path): 6 rows (standard), 4 pairs; 2 dropped (prompt fills max-length)"),
                      outcome.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any], outcome.stdout)
    }

    /// A data set whose every row is dropped is refused with its summary, not scored as 0 pairs.
    func testEveryRowDroppedIsRefused() throws {
        let run = try TinyRun()
        let data = try writeData(in: run.directory)
        for command in [["logps", "--model", run.modelDirectory.path],
                        ["eval", "--policy", run.modelDirectory.path, "--model", run.modelDirectory.path, "--batch-size", "4"],
                        ["train", "--model", run.modelDirectory.path, "--output-dir", run.directory.appendingPathComponent("out").path]] {
            let outcome = try dpoDDP(command + ["--data", data.path, "--max-length", "4"], in: run.directory)
            XCTAssertNotEqual(outcome.status, 0, command[0])
            XCTAssertTrue(outcome.stderr.contains("\(data.path): no pair is left to score: 6 rows (standard), 0 pairs; 6 dropped"),
                          "\(command[0]): \(outcome.stderr)")
        }
    }
}
