/// Bulk conversion of host values into little-endian tensor bytes.
enum ElementEncoding {
    /// Appends `values` as `dtype` (F32, F16 or BF16; the narrow types rounded to
    /// nearest, ties to even) to `bytes`.
    static func appendFloats(_ values: UnsafeBufferPointer<Float>, as dtype: SafetensorsDType, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: values.count * dtype.byteSize))
        bytes.withUnsafeMutableBytes { buffer in
            let out = UnsafeMutableRawBufferPointer(rebasing: buffer[start...])
            switch dtype {
            case .f32:
                for (i, value) in values.enumerated() {
                    out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            case .f16:
                for (i, value) in values.enumerated() {
                    out.storeBytes(of: HalfPrecision.f16(from: value).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            case .bf16:
                for (i, value) in values.enumerated() {
                    out.storeBytes(of: HalfPrecision.bf16(from: value).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            default:
                preconditionFailure("appendFloats called with dtype \(dtype)")
            }
        }
    }

    /// Appends `values` as I64 to `bytes`.
    static func appendInt64s(_ values: [Int64], to bytes: inout [UInt8]) {
        for value in values {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }
}
