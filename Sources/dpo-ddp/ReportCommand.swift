import ArgumentParser
import Foundation
import RunReport

/// `dpo-ddp report`: a run directory's metrics as a self-contained HTML page of SVG charts.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Chart a run's metrics.jsonl as a self-contained HTML page (inline SVG, no scripts).",
        discussion: """
            Charts loss, reward margins, reward accuracy, chosen/rejected rewards and log-probs, \
            gradient norm and learning rate over steps, train and eval (eval_ metrics) together, with \
            the SFT phase shaded where the run has one; then a table of final and best values and the \
            run's resolved_config.yaml (or config.yaml) verbatim. NaN/Inf values are skipped and \
            counted; a malformed metrics.jsonl is refused, naming the file and line. Prints the page's path.

            Examples:
              dpo-ddp report runs/default      # writes runs/default/report.html
              dpo-ddp report runs/default --output /tmp/report.html
            """)

    @Argument(help: ArgumentHelp("The run directory holding metrics.jsonl.", valueName: "run-dir"))
    var runDirectory: String

    @Option(help: ArgumentHelp("Where to write the page. Default: RUN_DIR/report.html.", valueName: "file"))
    var output: String?

    func run() throws {
        let directory = URL(fileURLWithPath: runDirectory, isDirectory: true)
        let page = try ReportPage(runDirectory: directory)
        let destination = output.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent(ReportPage.fileName)
        try page.write(to: destination)
        print(destination.path)
    }
}
