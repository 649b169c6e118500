/// A safetensors file, header, or request that could not be honoured.
///
/// Every refusal names the file (or `<memory>` / the writer) and one specific ``Reason``.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What exactly was wrong.
    public enum Reason: Equatable, Sendable {
        /// The file could not be read or written; the payload is the system's message.
        case io(String)
        /// The file is shorter than the 8-byte header-length prefix.
        case fileTooShort(byteCount: Int)
        /// The declared header length runs past the end of the file.
        case headerLengthExceedsFile(declared: UInt64, available: Int)
        /// The declared header length is above the reference implementation's 100 MB limit.
        case headerTooLarge(declared: Int, limit: Int)
        /// The header bytes are not valid UTF-8.
        case headerNotUTF8
        /// The header is valid UTF-8 but not JSON.
        case headerNotJSON
        /// The header is JSON but not a JSON object.
        case headerNotObject
        /// `__metadata__` is not an object mapping strings to strings.
        case metadataNotStringMap
        /// A tensor's entry is not a JSON object.
        case tensorEntryNotObject(tensor: String)
        /// A tensor's entry lacks `dtype`, `shape` or `data_offsets`.
        case missingField(tensor: String, field: String)
        /// A tensor's `dtype` is not a string or `shape` is not an array.
        case fieldWrongType(tensor: String, field: String)
        /// A tensor's `dtype` is not one this library knows.
        case unknownDType(tensor: String, dtype: String)
        /// A tensor's shape has an entry that is not a non-negative integer.
        case invalidShapeEntry(tensor: String)
        /// A tensor's element count or byte size overflows `Int`.
        case shapeOverflow(tensor: String)
        /// `data_offsets` is not two non-negative integers in ascending order.
        case invalidDataOffsets(tensor: String)
        /// A tensor's data ends past the end of the data buffer.
        case dataOffsetsPastEnd(tensor: String, end: Int, dataByteCount: Int)
        /// A tensor's byte range does not equal element count × dtype size.
        case byteSizeMismatch(tensor: String, expected: Int, actual: Int)
        /// Two tensors' byte ranges overlap.
        case overlappingTensors(first: String, second: String)
        /// Bytes between two tensors (or before the first) belong to no tensor.
        case gapBeforeTensor(tensor: String, gapStart: Int, gapEnd: Int)
        /// Bytes after the last tensor belong to no tensor.
        case trailingBytes(count: Int)
        /// No tensor has this name.
        case tensorNotFound(name: String)
        /// The tensor's dtype cannot be read (or written) as the requested kind of value.
        case unsupportedDType(tensor: String, dtype: SafetensorsDType, requested: String)
        /// The destination's element count differs from the tensor's.
        case elementCountMismatch(tensor: String, expected: Int, actual: Int)
        /// The writer already holds a tensor of this name.
        case duplicateTensorName(name: String)
        /// `__metadata__` cannot be used as a tensor name.
        case reservedTensorName
    }

    /// What was wrong.
    public let reason: Reason
    /// The file path, `<memory>`, or `<writer>` the error is about.
    public let source: String

    /// Creates an error about `source`.
    public init(_ reason: Reason, source: String) {
        self.reason = reason
        self.source = source
    }

    /// A sentence a user can act on, beginning with the source.
    public var description: String { "\(source): \(reason.message)" }
}

extension SafetensorsError.Reason {
    var message: String {
        switch self {
        case .io(let detail):
            return "I/O failed: \(detail)"
        case .fileTooShort(let count):
            return "file has \(count) bytes, fewer than the 8-byte header length prefix"
        case .headerLengthExceedsFile(let declared, let available):
            return "header length \(declared) exceeds the \(available) bytes that follow the prefix"
        case .headerTooLarge(let declared, let limit):
            return "header length \(declared) exceeds the \(limit)-byte limit"
        case .headerNotUTF8:
            return "header is not valid UTF-8"
        case .headerNotJSON:
            return "header is not valid JSON"
        case .headerNotObject:
            return "header is JSON but not an object"
        case .metadataNotStringMap:
            return "__metadata__ must map strings to strings"
        case .tensorEntryNotObject(let tensor):
            return "entry for tensor '\(tensor)' is not an object"
        case .missingField(let tensor, let field):
            return "tensor '\(tensor)' has no '\(field)'"
        case .fieldWrongType(let tensor, let field):
            return "tensor '\(tensor)' has a '\(field)' of the wrong JSON type"
        case .unknownDType(let tensor, let dtype):
            return "tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case .invalidShapeEntry(let tensor):
            return "tensor '\(tensor)' has a shape entry that is not a non-negative integer"
        case .shapeOverflow(let tensor):
            return "tensor '\(tensor)' has a shape whose byte size overflows"
        case .invalidDataOffsets(let tensor):
            return "tensor '\(tensor)' needs data_offsets of two ascending non-negative integers"
        case .dataOffsetsPastEnd(let tensor, let end, let count):
            return "tensor '\(tensor)' ends at byte \(end) but the data buffer has \(count) bytes"
        case .byteSizeMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)' spans \(actual) bytes but its shape and dtype need \(expected)"
        case .overlappingTensors(let first, let second):
            return "tensors '\(first)' and '\(second)' overlap"
        case .gapBeforeTensor(let tensor, let start, let end):
            return "data bytes \(start)..<\(end) before tensor '\(tensor)' belong to no tensor"
        case .trailingBytes(let count):
            return "\(count) bytes after the last tensor belong to no tensor"
        case .tensorNotFound(let name):
            return "no tensor named '\(name)'"
        case .unsupportedDType(let tensor, let dtype, let requested):
            return "tensor '\(tensor)' has dtype \(dtype.rawValue), not usable as \(requested)"
        case .elementCountMismatch(let tensor, let expected, let actual):
            return "tensor '\(tensor)' has \(expected) elements but \(actual) were given"
        case .duplicateTensorName(let name):
            return "tensor '\(name)' was already added"
        case .reservedTensorName:
            return "'__metadata__' is reserved and cannot name a tensor"
        }
    }
}
