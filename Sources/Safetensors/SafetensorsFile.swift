import FileErrors
import Foundation

/// A validated safetensors file, read lazily: tensors are converted only when asked for.
///
/// Opening checks the whole header against the file size before anything else is
/// allocated, and checks that the tensors tile the data buffer exactly, as the reference
/// implementation does. A header that lies is refused with a ``SafetensorsError``.
public struct SafetensorsFile: Sendable {
    /// The file path, or the name given to ``init(data:source:)``; used in error messages.
    public let source: String
    /// The `__metadata__` map (empty when the file has none).
    public let metadata: [String: String]
    /// Every tensor name, sorted.
    public let tensorNames: [String]

    private let bytes: Data
    private let dataStart: Int
    private let tensors: [String: SafetensorsTensorInfo]

    /// Opens and validates the file at `url`, memory-mapping it so that tensor bytes are
    /// paged in on demand and never copied whole.
    public init(contentsOf url: URL) throws {
        let mapped: Data
        do {
            mapped = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafetensorsError(.io(FileError.cause(of: error)), source: url.path)
        }
        try self.init(data: mapped, source: url.path)
    }

    /// Validates an in-memory safetensors file; `source` names it in error messages.
    public init(data: Data, source: String = "<memory>") throws {
        let header = try HeaderParser.parse(data, source: source)
        self.source = source
        self.bytes = data
        self.dataStart = header.dataStart
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.tensorNames = header.tensors.keys.sorted()
    }

    /// The header entry for `name`, or nil if there is no such tensor.
    public func info(_ name: String) -> SafetensorsTensorInfo? {
        tensors[name]
    }

    /// The elements of an F32, F16, BF16 or F64 tensor as `Float`s, in row-major order.
    /// Half-precision values convert exactly; F64 rounds to nearest.
    public func floats(_ name: String) throws -> [Float] {
        let info = try floatInfo(name)
        return [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            withTensorBytes(info) { ElementDecoding.decodeFloats($0, dtype: info.dtype, into: buffer) }
            initialized = info.elementCount
        }
    }

    /// Converts an F32, F16, BF16 or F64 tensor straight into `destination`, whose count
    /// must equal the tensor's element count exactly.
    public func copyFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try floatInfo(name)
        guard destination.count == info.elementCount else {
            throw SafetensorsError(
                .elementCountMismatch(tensor: name, expected: info.elementCount, actual: destination.count),
                source: source)
        }
        withTensorBytes(info) { ElementDecoding.decodeFloats($0, dtype: info.dtype, into: destination) }
    }

    /// Converts the elements at flat (row-major) indices `elements` of an F32, F16, BF16 or F64
    /// tensor straight into `destination`, whose count must equal `elements.count`; the other
    /// elements are not read (a mapped file pages in only this part).
    public func copyFloats(_ name: String, elements: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try floatInfo(name)
        guard elements.lowerBound >= 0, elements.upperBound <= info.elementCount else {
            throw SafetensorsError(.elementCountMismatch(tensor: name, expected: info.elementCount, actual: elements.upperBound),
                                   source: source)
        }
        precondition(destination.count == elements.count, "copyFloats: \(destination.count) destinations for \(elements)")
        let size = info.dtype.byteSize
        withTensorBytes(info) { bytes in
            let part = UnsafeRawBufferPointer(rebasing: bytes[(elements.lowerBound * size)..<(elements.upperBound * size)])
            ElementDecoding.decodeFloats(part, dtype: info.dtype, into: destination)
        }
    }

    /// The elements of an I64 or I32 tensor as `Int64`s, in row-major order.
    public func int64s(_ name: String) throws -> [Int64] {
        let info = try requireInfo(name)
        guard info.dtype == .i64 || info.dtype == .i32 else {
            throw SafetensorsError(
                .unsupportedDType(tensor: name, dtype: info.dtype, requested: "Int64"), source: source)
        }
        return withTensorBytes(info) { ElementDecoding.decodeInt64s($0, dtype: info.dtype, count: info.elementCount) }
    }

    private func requireInfo(_ name: String) throws -> SafetensorsTensorInfo {
        guard let info = tensors[name] else { throw SafetensorsError(.tensorNotFound(name: name), source: source) }
        return info
    }

    private func floatInfo(_ name: String) throws -> SafetensorsTensorInfo {
        let info = try requireInfo(name)
        switch info.dtype {
        case .f32, .f16, .bf16, .f64: return info
        default:
            throw SafetensorsError(.unsupportedDType(tensor: name, dtype: info.dtype, requested: "Float"), source: source)
        }
    }

    private func withTensorBytes<R>(_ info: SafetensorsTensorInfo, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        bytes.withUnsafeBytes { file in
            body(UnsafeRawBufferPointer(rebasing: file[(dataStart + info.dataOffsets.lowerBound) ..< (dataStart + info.dataOffsets.upperBound)]))
        }
    }
}
