import FileErrors
import Foundation

/// One completion pair of `samples.jsonl` (`generate_during_eval`): what the policy and the
/// reference wrote for one eval prompt at one evaluation.
public struct SampleRecord: Equatable, Sendable {
    /// The evaluation's optimiser step.
    public var step: Int
    /// The eval pair the prompt comes from.
    public var pair: Int
    /// The line of that pair's row in its data file, when recorded.
    public var line: Int?
    /// The prompt as text.
    public var prompt: String
    /// The policy's greedy completion.
    public var policy: String
    /// The reference's greedy completion.
    public var reference: String

    /// A record from its parts.
    public init(step: Int, pair: Int, line: Int?, prompt: String, policy: String, reference: String) {
        self.step = step
        self.pair = pair
        self.line = line
        self.prompt = prompt
        self.policy = policy
        self.reference = reference
    }
}

/// The records of a run's `samples.jsonl`: one JSON object per prompt and evaluation, with
/// `step`, `pair`, `prompt`, `policy` and `reference`. A line that is not such an object is refused
/// with its file and line.
public enum SampleLog {
    /// The file's name in the run directory.
    public static let fileName = "samples.jsonl"

    /// The records of the file at `url`, in file order.
    public static func read(contentsOf url: URL) throws -> [SampleRecord] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RunReportError(file: url.path, problem: .unreadable(FileError.cause(of: error)))
        }
        var records: [SampleRecord] = []
        for (index, bytes) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where bytes.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) {
            let line = index + 1
            guard let value = try? JSONSerialization.jsonObject(with: Data(bytes)) else {
                throw RunReportError(file: url.path, line: line, problem: .malformedJSON(excerpt: String(decoding: bytes.prefix(60), as: UTF8.self)))
            }
            guard let object = value as? [String: Any] else { throw RunReportError(file: url.path, line: line, problem: .notAnObject) }
            guard let step = object["step"] as? Int else { throw RunReportError(file: url.path, line: line, problem: .missingStep) }
            records.append(SampleRecord(step: step, pair: object["pair"] as? Int ?? 0, line: object["line"] as? Int,
                                        prompt: object["prompt"] as? String ?? "", policy: object["policy"] as? String ?? "",
                                        reference: object["reference"] as? String ?? ""))
        }
        return records
    }

    /// The samples as an HTML section: per evaluation step (newest first, only the newest open),
    /// a table of prompt, policy completion and reference completion side by side.
    static func html(_ records: [SampleRecord]) -> String {
        let steps = Array(Set(records.map(\.step))).sorted(by: >)
        var out = "<h2>Samples</h2>\n<p class=\"meta\">Greedy completions of the first eval prompts at each evaluation "
            + "(generate_during_eval), policy beside reference.</p>\n"
        for (position, step) in steps.enumerated() {
            out += "<details class=\"samples\"\(position == 0 ? " open" : "")><summary>step \(step)</summary>\n"
            out += "<table class=\"samples\">\n<thead><tr><th>pair</th><th>prompt</th><th>policy</th><th>reference</th></tr></thead>\n<tbody>\n"
            for record in records where record.step == step {
                let pair = "\(record.pair)" + (record.line.map { " (line \($0))" } ?? "")
                out += "<tr><td class=\"num\">\(Markup.escape(pair))</td>" + [record.prompt, record.policy, record.reference]
                    .map { "<td><pre>\(Markup.escape($0))</pre></td>" }.joined() + "</tr>\n"
            }
            out += "</tbody>\n</table>\n</details>\n"
        }
        return out
    }
}
