/// A run report that cannot be made: a metrics log that cannot be charted or a page that cannot be
/// written, named by file and (1-based) line in one line a user can act on.
public struct RunReportError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The file could not be read.
        case unreadable(String)
        /// The file holds no records (only blank lines, or nothing).
        case empty
        /// The line is not valid JSON, or not valid UTF-8.
        case malformedJSON(excerpt: String)
        /// The line is valid JSON but not an object.
        case notAnObject
        /// The line has no finite numeric `step`.
        case missingStep
        /// The report could not be written.
        case unwritable(String)
    }

    /// The path of the file concerned.
    public var file: String
    /// The 1-based line of the record, when the problem belongs to one.
    public var line: Int?
    /// What is wrong.
    public var problem: Problem

    /// An error about `file`, at `line` when the problem belongs to one line.
    public init(file: String, line: Int? = nil, problem: Problem) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        switch problem {
        case let .unreadable(detail): return "\(place): cannot read: \(detail)"
        case .empty: return "\(place): no metrics records in the file (is the run still starting?)"
        case let .malformedJSON(excerpt): return "\(place): malformed JSON: \(excerpt)"
        case .notAnObject: return "\(place): expected one JSON object per line"
        case .missingStep: return "\(place): the record has no numeric \"step\""
        case let .unwritable(detail): return "\(place): cannot write: \(detail)"
        }
    }
}
