/// Bulk conversion of little-endian tensor bytes into host `Float`s and `Int64`s.
///
/// Sources may sit at any alignment inside a memory-mapped file, so every read is an
/// unaligned load; the element counts were validated against the byte counts beforehand.
enum ElementDecoding {
    /// Converts `destination.count` floating-point elements of `dtype` (F32, F16, BF16 or F64).
    static func decodeFloats(
        _ source: UnsafeRawBufferPointer, dtype: SafetensorsDType, into destination: UnsafeMutableBufferPointer<Float>
    ) {
        let count = destination.count
        guard count > 0, let out = destination.baseAddress else { return }
        switch dtype {
        case .f32:
            #if _endian(little)
            UnsafeMutableRawPointer(out).copyMemory(from: source.baseAddress!, byteCount: count * 4)
            #else
            for i in 0 ..< count {
                out[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
            #endif
        case .f16:
            for i in 0 ..< count {
                out[i] = HalfPrecision.float(fromF16: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0 ..< count {
                out[i] = HalfPrecision.float(fromBF16: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .f64:
            for i in 0 ..< count {
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        default:
            preconditionFailure("decodeFloats called with non-float dtype \(dtype)")
        }
    }

    /// Converts the I64 or I32 elements of `source` to `Int64`.
    static func decodeInt64s(_ source: UnsafeRawBufferPointer, dtype: SafetensorsDType, count: Int) -> [Int64] {
        switch dtype {
        case .i64:
            return (0 ..< count).map { Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        case .i32:
            return (0 ..< count).map { Int64(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        default:
            preconditionFailure("decodeInt64s called with non-integer dtype \(dtype)")
        }
    }
}
