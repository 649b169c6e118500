/// A bad data set, named by file, line (1-based; for a JSON array, the line where the row starts)
/// and field, in one line a user can act on.
public struct PreferenceDataError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The file could not be read.
        case unreadable(String)
        /// The file holds no rows.
        case empty
        /// The row is not valid JSON.
        case malformedJSON(String)
        /// The row's bytes are not valid UTF-8.
        case invalidUTF8
        /// A required field is absent.
        case missingField
        /// A field is present but empty.
        case emptyField
        /// A field has the wrong JSON type.
        case wrongType(expected: String, found: String)
        /// A field has a value outside those allowed.
        case invalidValue(String)
        /// The first row matches none of the formats.
        case unknownFormat(keys: [String])
    }

    /// The data file's path.
    public var file: String
    /// The 1-based line of the row, when the problem belongs to one.
    public var line: Int?
    /// The field, as a path such as `conversations[2].value`, when the problem belongs to one.
    public var field: String?
    /// What is wrong.
    public var problem: Problem

    public init(file: String, line: Int? = nil, field: String? = nil, problem: Problem) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += ": \(field)" }
        return "\(place): \(reason)"
    }

    private var reason: String {
        switch problem {
        case let .unreadable(detail): return "cannot read: \(detail)"
        case .empty: return "no rows in the file"
        case let .malformedJSON(detail): return "malformed JSON: \(detail)"
        case .invalidUTF8: return "invalid UTF-8"
        case .missingField: return "missing field"
        case .emptyField: return "empty field"
        case let .wrongType(expected, found): return "expected \(expected), found \(found)"
        case let .invalidValue(detail): return detail
        case let .unknownFormat(keys):
            return "unknown data format for keys [\(keys.joined(separator: ", "))]; expected prompt/chosen/rejected, "
                + "chosen/rejected, instruction/chosen/rejected or conversations/chosen/rejected (see --data-format)"
        }
    }
}
