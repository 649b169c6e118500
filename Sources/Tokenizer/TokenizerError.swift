/// Why a tokenizer could not be loaded or could not decode, naming the file, line and field.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// The file was read but its content is wrong at `line` (1-based, when known) in `field`.
    case invalid(file: String, line: Int?, field: String?, reason: String)
    /// An id passed to `decode` is not in the vocabulary.
    case unknownTokenID(Int32)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .invalid(file, line, field, reason):
            let place = line.map { "\(file):\($0)" } ?? file
            return field.map { "\(place): \($0): \(reason)" } ?? "\(place): \(reason)"
        case let .unknownTokenID(id):
            return "token id \(id) is not in the vocabulary"
        }
    }
}
