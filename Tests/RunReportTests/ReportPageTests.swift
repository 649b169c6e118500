import Foundation
import RunReport
import XCTest

final class ReportPageTests: XCTestCase {
    /// A DPO run of 8 steps with eval every 4 steps, one NaN loss and one line without rewards.
    private let dpoOnly = """
        {"step": 1, "phase": "dpo", "loss": 0.69, "rewards/margins": 0.0, "rewards/accuracies": 0.5, "rewards/chosen": 0.0, "rewards/rejected": 0.0, "logps/chosen": -40, "logps/rejected": -42}
        {"step": 2, "phase": "dpo", "loss": NaN, "rewards/margins": 0.02, "rewards/accuracies": 0.5, "rewards/chosen": 0.01, "rewards/rejected": -0.01, "logps/chosen": -40, "logps/rejected": -42}
        {"step": 3, "phase": "dpo", "loss": 0.66}
        {"step": 4, "phase": "dpo", "loss": 0.64, "rewards/margins": 0.1, "rewards/accuracies": 0.75, "rewards/chosen": 0.05, "rewards/rejected": -0.05, "logps/chosen": -39, "logps/rejected": -43}
        {"step": 4, "eval_loss": 0.67, "eval_rewards/margins": 0.05, "eval_rewards/accuracies": 0.6, "eval_rewards/chosen": 0.02, "eval_rewards/rejected": -0.03, "eval_logps/chosen": -41, "eval_logps/rejected": -42}
        {"step": 8, "phase": "dpo", "loss": 0.6, "rewards/margins": 0.2, "rewards/accuracies": 1.0, "rewards/chosen": 0.1, "rewards/rejected": -0.1, "logps/chosen": -38, "logps/rejected": -44}
        {"step": 8, "eval_loss": 0.65, "eval_rewards/margins": 0.08, "eval_rewards/accuracies": 0.65, "eval_rewards/chosen": 0.03, "eval_rewards/rejected": -0.05, "eval_logps/chosen": -41, "eval_logps/rejected": -43}
        """

    private func page(_ text: String, config: RunConfigFile? = nil) throws -> String {
        ReportPage(log: try MetricsLog(data: Data(text.utf8), file: "metrics.jsonl"), title: "run", config: config).html
    }

    /// The `<svg>` elements of a page, each as its text.
    private func svgs(_ html: String) -> [String] {
        html.components(separatedBy: "<svg ").dropFirst().map { $0.components(separatedBy: "</svg>")[0] }
    }

    /// The `points` of every polyline in `svg`, by `data-metric`.
    private func polylines(_ svg: String) -> [(metric: String, points: Int)] {
        svg.components(separatedBy: "<polyline ").dropFirst().map { element in
            let metric = element.components(separatedBy: "data-metric=\"")[1].prefix { $0 != "\"" }
            let points = element.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
            return (String(metric), points.split(separator: " ").count)
        }
    }

    func testOneSVGPerChartWithAPolylinePerSeriesHoldingEveryFiniteValue() throws {
        let html = try page(dpoOnly)
        let charts = svgs(html)
        // loss, margins, accuracies, rewards chosen/rejected, logps chosen/rejected; no grad_norm or learning_rate.
        XCTAssertEqual(charts.count, 5)
        XCTAssertEqual(html.components(separatedBy: "<figure>").count - 1, 5)
        let expected: [[(String, Int)]] = [
            [("loss", 4), ("eval_loss", 2)],
            [("rewards/margins", 4), ("eval_rewards/margins", 2)],
            [("rewards/accuracies", 4), ("eval_rewards/accuracies", 2)],
            [("rewards/chosen", 4), ("rewards/rejected", 4), ("eval_rewards/chosen", 2), ("eval_rewards/rejected", 2)],
            [("logps/chosen", 4), ("logps/rejected", 4), ("eval_logps/chosen", 2), ("eval_logps/rejected", 2)],
        ]
        for (chart, lines) in zip(charts, expected) {
            let found = polylines(chart)
            XCTAssertEqual(found.map(\.metric), lines.map(\.0))
            XCTAssertEqual(found.map(\.points), lines.map(\.1))
        }
        XCTAssertTrue(html.contains("1 NaN/Inf value was skipped: loss (dpo) × 1."), html)
        XCTAssertTrue(html.contains("Not logged, so not charted: Gradient norm (before clipping); Learning rate."))
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"),
                       "nothing is fetched from the network")
    }

    func testEvalSeriesAppearOnlyWhenEvalLinesExist() throws {
        let trainOnly = dpoOnly.split(separator: "\n").filter { !$0.contains("eval_") }.joined(separator: "\n")
        let html = try page(trainOnly)
        XCTAssertFalse(html.contains("data-metric=\"eval_"))
        XCTAssertFalse(html.contains(">eval</text>"))
        XCTAssertTrue(html.contains("no eval records"))

        let withEval = try page(dpoOnly)
        XCTAssertTrue(withEval.contains("data-metric=\"eval_loss\""))
        XCTAssertTrue(withEval.contains(">eval</text>"), "the legend names the eval series")
        XCTAssertTrue(withEval.contains("2 eval records"))
    }

    func testPhasesGetABandAMarkerAndSeparateSeries() throws {
        let sft = (1...3).map { "{\"step\": \($0), \"phase\": \"sft\", \"loss\": \(3.0 - Double($0) * 0.1)}" }
        let dpo = dpoOnly.replacingOccurrences(of: "\"step\": ", with: "\"step\": 1")  // steps 11...18
        let html = try page((sft + [dpo]).joined(separator: "\n"))
        let loss = try XCTUnwrap(svgs(html).first)
        XCTAssertEqual(polylines(loss).map(\.metric), ["loss", "loss", "eval_loss"])
        XCTAssertEqual(polylines(loss).map(\.points), [3, 4, 2])
        XCTAssertTrue(loss.contains("class=\"phase-band\""))
        XCTAssertTrue(loss.contains("class=\"phase-start\""))
        XCTAssertTrue(loss.contains(">SFT</text>") && loss.contains(">DPO</text>"))
        XCTAssertTrue(loss.contains(">train (sft)</text>") && loss.contains(">train (dpo)</text>"))
        XCTAssertTrue(html.contains("sft 1–3, dpo 11–18"))
    }

    func testConfigIsShownVerbatimButEscaped() throws {
        let config = RunConfigFile(name: "resolved_config.yaml", text: "output_dir: runs/<a&b>\nprompt: \"</pre><script>x</script>\"\n")
        let html = try page(dpoOnly, config: config)
        XCTAssertTrue(html.contains(
            "<pre>output_dir: runs/&lt;a&amp;b&gt;\nprompt: &quot;&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;&quot;\n</pre>"))
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertTrue(html.contains("resolved_config.yaml"))
        XCTAssertTrue(try page(dpoOnly).contains("No resolved_config.yaml or config.yaml"))
    }

    func testRunDirectoryPagePrefersTheResolvedConfigAndWritesTheFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(dpoOnly.utf8).write(to: directory.appendingPathComponent("metrics.jsonl"))
        try Data("beta: 0.5\n".utf8).write(to: directory.appendingPathComponent("config.yaml"))
        try Data("beta: 0.1\n".utf8).write(to: directory.appendingPathComponent("resolved_config.yaml"))

        let page = try ReportPage(runDirectory: directory)
        XCTAssertEqual(page.config, RunConfigFile(name: "resolved_config.yaml", text: "beta: 0.1\n"))
        XCTAssertEqual(page.title, directory.lastPathComponent)
        let output = directory.appendingPathComponent(ReportPage.fileName)
        try page.write(to: output)
        XCTAssertEqual(try String(contentsOf: output, encoding: .utf8), page.html)

        let unwritable = directory.appendingPathComponent("missing/report.html")
        XCTAssertThrowsError(try page.write(to: unwritable)) { error in
            XCTAssertTrue("\(error)".hasPrefix(unwritable.path + ": cannot write"), "\(error)")
        }
    }
}
