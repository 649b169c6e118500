import Foundation

/// A validated header: where the data buffer starts and what lies in it.
struct ParsedHeader {
    /// Byte offset of the data buffer from the start of the file.
    let dataStart: Int
    /// Tensor entries by name.
    let tensors: [String: SafetensorsTensorInfo]
    /// The `__metadata__` map, empty when absent.
    let metadata: [String: String]
}

/// Reads and validates the 8-byte prefix and JSON header of a safetensors file.
///
/// Bounds are checked before anything is allocated; only the header bytes are copied.
/// Header entries are checked in name order, so the first problem reported is stable;
/// the layout rules are those of the reference implementation (see ``TensorLayout``).
enum HeaderParser {
    /// The reference implementation's header size limit.
    static let maximumHeaderLength = 100_000_000

    static func parse(_ file: Data, source: String) throws -> ParsedHeader {
        func fail(_ reason: SafetensorsError.Reason) -> SafetensorsError {
            SafetensorsError(reason, source: source)
        }
        guard file.count >= 8 else { throw fail(.fileTooShort(byteCount: file.count)) }
        let declared = file.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let available = file.count - 8
        guard declared <= UInt64(available) else {
            throw fail(.headerLengthExceedsFile(declared: declared, available: available))
        }
        let headerLength = Int(declared)
        guard headerLength <= maximumHeaderLength else {
            throw fail(.headerTooLarge(declared: headerLength, limit: maximumHeaderLength))
        }
        let headerStart = file.startIndex + 8
        let headerBytes = file[headerStart ..< headerStart + headerLength]
        guard isValidUTF8(headerBytes) else { throw fail(.headerNotUTF8) }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            throw fail(.headerNotJSON)
        }
        guard let object = json as? [String: Any] else { throw fail(.headerNotObject) }

        var metadata: [String: String] = [:]
        var tensors: [String: SafetensorsTensorInfo] = [:]
        for name in object.keys.sorted() {
            let entry = object[name]!
            if name == "__metadata__" {
                guard let map = entry as? [String: Any] else { throw fail(.metadataNotStringMap) }
                for (key, value) in map {
                    guard let string = value as? String else { throw fail(.metadataNotStringMap) }
                    metadata[key] = string
                }
            } else {
                tensors[name] = try tensorInfo(name: name, entry: entry, fail: fail)
            }
        }
        try TensorLayout.validate(Array(tensors.values), dataByteCount: available - headerLength, fail: fail)
        return ParsedHeader(dataStart: 8 + headerLength, tensors: tensors, metadata: metadata)
    }

    private static func isValidUTF8(_ bytes: Data) -> Bool {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private static func tensorInfo(
        name: String, entry: Any, fail: (SafetensorsError.Reason) -> SafetensorsError
    ) throws -> SafetensorsTensorInfo {
        guard let fields = entry as? [String: Any] else { throw fail(.tensorEntryNotObject(tensor: name)) }
        func field(_ key: String) throws -> Any {
            guard let value = fields[key] else { throw fail(.missingField(tensor: name, field: key)) }
            return value
        }
        guard let dtypeName = try field("dtype") as? String else {
            throw fail(.fieldWrongType(tensor: name, field: "dtype"))
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw fail(.unknownDType(tensor: name, dtype: dtypeName))
        }
        guard let shapeValues = try field("shape") as? [Any] else {
            throw fail(.fieldWrongType(tensor: name, field: "shape"))
        }
        var shape: [Int] = []
        var elementCount = 1
        for value in shapeValues {
            guard let dimension = nonNegativeJSONInteger(value) else { throw fail(.invalidShapeEntry(tensor: name)) }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail(.shapeOverflow(tensor: name)) }
            shape.append(dimension)
            elementCount = product
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw fail(.shapeOverflow(tensor: name)) }

        guard let offsets = try field("data_offsets") as? [Any], offsets.count == 2,
              let begin = nonNegativeJSONInteger(offsets[0]),
              let end = nonNegativeJSONInteger(offsets[1]), begin <= end
        else { throw fail(.invalidDataOffsets(tensor: name)) }
        guard end - begin == byteCount else {
            throw fail(.byteSizeMismatch(tensor: name, expected: byteCount, actual: end - begin))
        }
        return SafetensorsTensorInfo(
            name: name, dtype: dtype, shape: shape, dataOffsets: begin ..< end, elementCount: elementCount)
    }
}
