import FileErrors
import Foundation

/// Collects tensors and writes them as one safetensors file.
///
/// The layout follows the reference writer: the JSON header is padded with spaces to a
/// multiple of 8 bytes, and tensors are laid out by decreasing dtype alignment, then by
/// name, so every tensor starts at a multiple of its element size.
public struct SafetensorsWriter: Sendable {
    private struct Entry: Sendable {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        let bytes: [UInt8]
    }

    /// The `__metadata__` map written into the header (omitted when empty).
    public var metadata: [String: String]
    private var entries: [String: Entry] = [:]
    private static let source = "<writer>"

    /// Creates an empty writer.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a floating-point tensor stored as `dtype`: F32 exactly, F16 or BF16 rounded to
    /// nearest with ties to even (F16 overflows to ±inf beyond 65504).
    public mutating func add(
        _ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>, dtype: SafetensorsDType = .f32
    ) throws {
        guard dtype == .f32 || dtype == .f16 || dtype == .bf16 else {
            throw SafetensorsError(.unsupportedDType(tensor: name, dtype: dtype, requested: "Float"), source: Self.source)
        }
        try checkNew(name, shape: shape, count: floats.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * dtype.byteSize)
        ElementEncoding.appendFloats(floats, as: dtype, to: &bytes)
        entries[name] = Entry(name: name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Adds a floating-point tensor from an array, with the same rules as the buffer overload.
    public mutating func add(_ name: String, shape: [Int], floats: [Float], dtype: SafetensorsDType = .f32) throws {
        try floats.withUnsafeBufferPointer { try add(name, shape: shape, floats: $0, dtype: dtype) }
    }

    /// Adds an I64 tensor.
    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) throws {
        try checkNew(name, shape: shape, count: int64s.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(int64s.count * 8)
        ElementEncoding.appendInt64s(int64s, to: &bytes)
        entries[name] = Entry(name: name, dtype: .i64, shape: shape, bytes: bytes)
    }

    /// The complete file: length prefix, padded header, tensor bytes.
    public func serialized() -> Data {
        let (header, ordered) = layout()
        var data = Data(capacity: header.count + ordered.reduce(0) { $0 + $1.bytes.count })
        data.append(header)
        for entry in ordered { data.append(contentsOf: entry.bytes) }
        return data
    }

    /// Writes the file to `url`, replacing any file there, one tensor at a time so the
    /// whole file is never assembled in memory. Not atomic: write to a temporary path and
    /// rename if readers may be watching.
    public func write(to url: URL) throws {
        let (header, ordered) = layout()
        do {
            try header.write(to: url)
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            for entry in ordered { try handle.write(contentsOf: entry.bytes) }
            try handle.synchronize()
        } catch {
            throw SafetensorsError(.io(FileError.cause(of: error)), source: url.path)
        }
    }

    private func checkNew(_ name: String, shape: [Int], count: Int) throws {
        guard name != "__metadata__" else { throw SafetensorsError(.reservedTensorName, source: Self.source) }
        guard entries[name] == nil else {
            throw SafetensorsError(.duplicateTensorName(name: name), source: Self.source)
        }
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { throw SafetensorsError(.invalidShapeEntry(tensor: name), source: Self.source) }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw SafetensorsError(.shapeOverflow(tensor: name), source: Self.source) }
            product = next
        }
        guard product == count else {
            throw SafetensorsError(.elementCountMismatch(tensor: name, expected: product, actual: count), source: Self.source)
        }
    }

    /// The length prefix plus padded JSON header, and the tensors in file order.
    private func layout() -> (header: Data, ordered: [Entry]) {
        let ordered = entries.values.sorted {
            ($1.dtype.layoutRank, $0.name) < ($0.dtype.layoutRank, $1.name)
        }
        var object: [String: Any] = [:]
        if !metadata.isEmpty { object["__metadata__"] = metadata }
        var offset = 0
        for entry in ordered {
            object[entry.name] = [
                "dtype": entry.dtype.rawValue,
                "shape": entry.shape,
                "data_offsets": [offset, offset + entry.bytes.count],
            ] as [String: Any]
            offset += entry.bytes.count
        }
        // Every value is a string, an integer, or an array or dictionary of them: always encodable.
        var json = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var header = Data(capacity: 8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { header.append(contentsOf: $0) }
        header.append(json)
        return (header, ordered)
    }
}
