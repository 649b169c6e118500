import Foundation
import RunReport
import XCTest

final class MetricsLogTests: XCTestCase {
    private func parse(_ text: String) throws -> MetricsLog {
        try MetricsLog(data: Data(text.utf8), file: "run/metrics.jsonl")
    }

    func testSampleBecomesSeriesPerPhaseWithEvalLinesAssignedByStep() throws {
        let log = try parse("""
            {"step": 1, "epoch": 0.05, "phase": "sft", "loss": 3.2, "grad_norm": 5.0, "learning_rate": 1e-4}
            {"step": 2, "epoch": 0.1, "phase": "sft", "loss": 3.0, "grad_norm": 4.0, "learning_rate": 1e-4}
            {"step": 2, "epoch": 0.1, "eval_loss": 3.1}
            {"step": 3, "epoch": 0.15, "phase": "dpo", "loss": 0.69, "rewards/margins": 0.0, "rewards/accuracies": 0.5}

            {"step": 4, "epoch": 0.2, "phase": "dpo", "loss": 0.65, "rewards/margins": 0.1, "rewards/accuracies": 0.75}
            {"step": 4, "epoch": 0.2, "eval_loss": 0.66, "eval_rewards/accuracies": 0.7}
            """)
        XCTAssertEqual(log.records.count, 6)
        XCTAssertEqual(log.records[3].line, 4)
        XCTAssertEqual(log.records[4].line, 6, "blank lines are skipped but still counted")
        XCTAssertEqual(log.phases, [PhaseSpan(name: "sft", firstStep: 1, lastStep: 2),
                                    PhaseSpan(name: "dpo", firstStep: 3, lastStep: 4)])

        let loss = log.series("loss")
        XCTAssertEqual(loss.map(\.phase), ["sft", "dpo"])
        XCTAssertEqual(loss[0].points, [MetricPoint(step: 1, value: 3.2), MetricPoint(step: 2, value: 3.0)])
        XCTAssertEqual(loss[1].points, [MetricPoint(step: 3, value: 0.69), MetricPoint(step: 4, value: 0.65)])

        let evalLoss = log.series("eval_loss")
        XCTAssertEqual(evalLoss.map(\.phase), ["sft", "dpo"], "eval lines take the phase of their step")
        XCTAssertEqual(evalLoss.map(\.points.count), [1, 1])
        XCTAssertEqual(log.series("eval_rewards/accuracies").first?.points, [MetricPoint(step: 4, value: 0.7)])
        XCTAssertEqual(log.series("rewards/chosen"), [])
        XCTAssertTrue(log.metricNames.contains("eval_rewards/accuracies"))
        XCTAssertFalse(log.metricNames.contains("step"))
    }

    func testNonFiniteValuesAreSkippedAndCountedAndMissingMetricsLeaveGaps() throws {
        let log = try parse("""
            {"step": 1, "loss": 0.7, "grad_norm": NaN}
            {"step": 2, "loss": Infinity}
            {"step": 3, "loss": "NaN", "grad_norm": 1.5}
            {"step": 4, "loss": -Infinity}
            {"step": 5, "loss": 0.6, "grad_norm": null, "note": "text", "flag": true}
            """)
        let loss = try XCTUnwrap(log.series("loss").first)
        XCTAssertNil(loss.phase)
        XCTAssertEqual(loss.points.map(\.step), [1, 5])
        XCTAssertEqual(loss.nonFiniteCount, 3)
        let gradNorm = try XCTUnwrap(log.series("grad_norm").first)
        XCTAssertEqual(gradNorm.points, [MetricPoint(step: 3, value: 1.5)])
        XCTAssertEqual(gradNorm.nonFiniteCount, 1)
        XCTAssertEqual(log.phases, [])
    }

    func testAStepLoggedAgainAfterAResumeReplacesTheEarlierValue() throws {
        let log = try parse("""
            {"step": 1, "loss": 0.7}
            {"step": 2, "loss": 0.65}
            {"step": 2, "loss": 0.64}
            {"step": 3, "loss": 0.6}
            """)
        XCTAssertEqual(log.series("loss").first?.points.map(\.value), [0.7, 0.64, 0.6])
    }

    func testMalformedLinesAreRefusedNamingFileAndLine() {
        let cases: [(text: String, line: Int, problem: RunReportError.Problem)] = [
            ("{\"step\": 1, \"loss\": 0.7}\n{\"step\": 2, \"loss\": 0.6\n", 2, .malformedJSON(excerpt: "{\"step\": 2, \"loss\": 0.6")),
            ("{\"step\": 1}\n\n[1, 2]\n", 3, .notAnObject),
            ("{\"step\": 1}\n{\"loss\": 0.5}\n", 2, .missingStep),
            ("{\"step\": \"ten\"}\n", 1, .missingStep),
            ("{\"step\": NaN}\n", 1, .missingStep),
        ]
        for (text, line, problem) in cases {
            XCTAssertThrowsError(try parse(text)) { error in
                let error = error as? RunReportError
                XCTAssertEqual(error?.line, line, text)
                XCTAssertEqual(error?.problem, problem, text)
                XCTAssertTrue(error?.description.hasPrefix("run/metrics.jsonl:\(line): ") ?? false, "\(String(describing: error))")
            }
        }
    }

    func testEmptyOrMissingFilesAreRefusedNamingTheFile() throws {
        for text in ["", "\n  \n"] {
            XCTAssertThrowsError(try parse(text)) { error in
                XCTAssertEqual(error as? RunReportError, RunReportError(file: "run/metrics.jsonl", problem: .empty))
            }
        }
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-run-\(UUID())/metrics.jsonl")
        XCTAssertThrowsError(try MetricsLog.read(contentsOf: missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix(missing.path + ": cannot read"), "\(error)")
        }
    }
}
