import Foundation
import RunReport
import XCTest

/// `samples.jsonl` in the report: every completion, escaped, per step, policy beside reference.
final class SampleLogTests: XCTestCase {
    func directory(samples: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("samples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try #"{"step": 2, "phase": "dpo", "loss": 0.69}"#.write(to: url.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        try samples.write(to: url.appendingPathComponent("samples.jsonl"), atomically: true, encoding: .utf8)
        return url
    }

    func testReportShowsEachStepsCompletionsSideBySide() throws {
        let run = try directory(samples: """
            {"step": 2, "pair": 0, "line": 1, "prompt": "Q: <b>?", "policy": "P2a", "reference": "R-a"}
            {"step": 2, "pair": 5, "line": 9, "prompt": "Q2", "policy": "P2b", "reference": "R-b"}
            {"step": 4, "pair": 0, "line": 1, "prompt": "Q: <b>?", "policy": "P4a & more", "reference": "R-a"}
            {"step": 4, "pair": 5, "line": 9, "prompt": "Q2", "policy": "P4b", "reference": "R-b"}
            """)
        defer { try? FileManager.default.removeItem(at: run) }
        let html = try ReportPage(runDirectory: run).html
        let section = try XCTUnwrap(html.components(separatedBy: "<h2>Samples</h2>").dropFirst().first)
        let steps = section.components(separatedBy: "<details").dropFirst().map { String($0) }
        XCTAssertEqual(steps.count, 2)
        XCTAssertTrue(steps[0].hasPrefix(" class=\"samples\" open><summary>step 4</summary>"), steps[0])
        XCTAssertTrue(steps[1].hasPrefix(" class=\"samples\"><summary>step 2</summary>"), steps[1])
        XCTAssertTrue(steps[0].contains("<tr><td class=\"num\">0 (line 1)</td><td><pre>Q: &lt;b&gt;?</pre></td><td><pre>P4a &amp; more</pre></td><td><pre>R-a</pre></td></tr>"), steps[0])
        XCTAssertTrue(steps[1].contains("<td><pre>Q2</pre></td><td><pre>P2b</pre></td><td><pre>R-b</pre></td>"), steps[1])
        XCTAssertFalse(steps[1].contains("P4"))
    }

    func testMalformedSampleLineIsNamed() throws {
        let run = try directory(samples: "{\"step\": 2, \"policy\": \"a\"}\n[1, 2]\n")
        defer { try? FileManager.default.removeItem(at: run) }
        XCTAssertThrowsError(try ReportPage(runDirectory: run)) {
            XCTAssertEqual("\($0)", run.appendingPathComponent("samples.jsonl").path + ":2: expected one JSON object per line")
        }
    }

    func testNoSamplesNoSection() throws {
        let run = try directory(samples: "")
        try FileManager.default.removeItem(at: run.appendingPathComponent("samples.jsonl"))
        defer { try? FileManager.default.removeItem(at: run) }
        XCTAssertFalse(try ReportPage(runDirectory: run).html.contains("Samples"))
    }
}
