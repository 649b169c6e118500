import FileErrors
import Foundation

/// One logged step: TRL-named metrics (train, or `eval_`-prefixed) with the step and epoch.
public struct LogRecord: Sendable {
    /// Optimiser step the record follows.
    public var step: Int
    /// Fractional epoch reached.
    public var epoch: Double
    /// `sft` or `dpo`.
    public var phase: String
    /// Metric name → value.
    public var values: [String: Double]

    /// A record of `values` after optimiser step `step`.
    public init(step: Int, epoch: Double, phase: String, values: [String: Double]) {
        self.step = step
        self.epoch = epoch
        self.phase = phase
        self.values = values
    }

    /// The record as one JSON object with sorted keys (`step`, `epoch`, `phase` and every metric).
    public var jsonLine: String {
        var object: [String: Any] = ["step": step, "epoch": epoch, "phase": phase]
        for (key, value) in values { object[key] = value.isFinite ? value : String(value) }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

/// `OUTPUT_DIR/metrics.jsonl` (and `samples.jsonl`): one JSON object per logged step, appended and
/// flushed as it comes.
public final class MetricsWriter {
    private let handle: FileHandle
    private let url: URL

    /// Opens the log for appending, first dropping records after `step` (left by a run that
    /// stopped after its last checkpoint), so a resumed run's log reads like an uninterrupted one.
    public init(url: URL, keepingThrough step: Int) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: url.path) {
            let text = try String(contentsOf: url, encoding: .utf8)
            let kept = text.split(separator: "\n").filter { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let recordStep = object["step"] as? Int else { return false }
                return recordStep <= step
            }
            try (kept.map { $0 + "\n" }.joined()).write(to: url, atomically: true, encoding: .utf8)
        } else {
            try Data().write(to: url)
        }
        handle = try FileHandle(forWritingTo: url)
        self.url = url
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends one record. A failed write (a full disk) names the file: a handle's errors do not.
    public func append(_ record: LogRecord) throws {
        try append(line: record.jsonLine)
    }

    /// Appends one JSON object (with a `step`, so a resumed run can drop what followed its checkpoint).
    public func append(object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        try append(line: String(decoding: data, as: UTF8.self))
    }

    private func append(line: String) throws {
        do {
            try handle.write(contentsOf: Data((line + "\n").utf8))
        } catch {
            throw FileError(error, path: url.path) ?? error
        }
    }
}
