import FileErrors
import Foundation

/// One logged step: a line of `metrics.jsonl`.
public struct MetricsRecord: Equatable, Sendable {
    /// The 1-based line of the record in its file.
    public var line: Int
    /// The optimiser step the record belongs to.
    public var step: Double
    /// The training phase (`"sft"` or `"dpo"`), when the line names one.
    public var phase: String?
    /// Every numeric field except `step`, by name (`loss`, `eval_rewards/accuracies`, ...).
    /// Non-finite values (`NaN`, `Infinity`) are kept here; series drop them.
    public var values: [String: Double]

    /// A record from its parts.
    public init(line: Int, step: Double, phase: String? = nil, values: [String: Double]) {
        self.line = line
        self.step = step
        self.phase = phase
        self.values = values
    }
}

/// The records of a run's `metrics.jsonl`: one JSON object per logged step.
///
/// Each line is a JSON object with a numeric `step`; other numeric fields are metrics, `phase` is
/// a string, and other fields are ignored. `NaN`, `Infinity` and `-Infinity` are accepted as bare
/// tokens (as Python writes them) or as strings. Blank lines are skipped; any other line that is
/// not such an object is refused with its file and line, and a file without records is refused.
public struct MetricsLog: Equatable, Sendable {
    /// The path the records were read from, as given.
    public var file: String
    /// The records in file order.
    public var records: [MetricsRecord]

    /// Parses the bytes of a metrics file; `file` names it in errors.
    public init(data: Data, file: String) throws {
        self.file = file
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        var records: [MetricsRecord] = []
        for (index, bytes) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            guard bytes.contains(where: { !Self.isSpace($0) }) else { continue }
            let fields: [String: JSONField]
            do {
                fields = try decoder.decode([String: JSONField].self, from: Data(bytes))
            } catch DecodingError.typeMismatch {
                throw RunReportError(file: file, line: line, problem: .notAnObject)
            } catch {
                throw RunReportError(file: file, line: line, problem: .malformedJSON(excerpt: Self.excerpt(bytes)))
            }
            guard case let .number(step)? = fields["step"], step.isFinite else {
                throw RunReportError(file: file, line: line, problem: .missingStep)
            }
            var values: [String: Double] = [:]
            for case let (name, .number(value)) in fields where name != "step" {
                values[name] = value
            }
            var phase: String?
            if case let .string(name)? = fields["phase"] { phase = name }
            records.append(MetricsRecord(line: line, step: step, phase: phase, values: values))
        }
        guard !records.isEmpty else { throw RunReportError(file: file, problem: .empty) }
        self.records = records
    }

    /// Reads and parses the metrics file at `url`.
    public static func read(contentsOf url: URL) throws -> MetricsLog {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RunReportError(file: url.path, problem: .unreadable(FileError.cause(of: error)))
        }
        return try MetricsLog(data: data, file: url.path)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// The start of a bad line, for the error message.
    private static func excerpt(_ bytes: Data.SubSequence) -> String {
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }
}

/// A JSON value as far as a metrics record cares: numbers and strings matter, the rest is ignored.
private enum JSONField: Decodable {
    case number(Double)
    case string(String)
    case other

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() || (try? container.decode(Bool.self)) != nil {
            self = .other
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            self = .other
        }
    }
}
