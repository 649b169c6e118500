import FileErrors
import Foundation

extension ReportPage {
    /// The report's file name inside the run directory.
    public static let fileName = "report.html"

    /// The configuration files looked for in a run directory, preferred first.
    public static let configFileNames = ["resolved_config.yaml", "config.yaml"]

    /// The page for the run in `runDirectory`: its `metrics.jsonl`, its configuration when one
    /// of `configFileNames` is there, and its `samples.jsonl` when there is one. Throws `RunReportError` when the metrics cannot be charted.
    public init(runDirectory: URL) throws {
        let log = try MetricsLog.read(contentsOf: runDirectory.appendingPathComponent("metrics.jsonl"))
        let config = Self.configFileNames.lazy.compactMap { name in
            (try? String(contentsOf: runDirectory.appendingPathComponent(name), encoding: .utf8))
                .map { RunConfigFile(name: name, text: $0) }
        }.first
        self.init(log: log, title: runDirectory.standardizedFileURL.lastPathComponent, config: config)
        let samples = runDirectory.appendingPathComponent(SampleLog.fileName)
        if FileManager.default.fileExists(atPath: samples.path) { self.samples = try SampleLog.read(contentsOf: samples) }
    }

    /// Writes the page to `url` atomically (a reader never sees half a page).
    public func write(to url: URL) throws {
        do {
            try Data(html.utf8).write(to: url, options: .atomic)
        } catch {
            throw RunReportError(file: url.path, problem: .unwritable(FileError.cause(of: error)))
        }
    }
}
