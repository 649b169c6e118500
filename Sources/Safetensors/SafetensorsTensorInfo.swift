/// One tensor's entry in a validated safetensors header.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `h.0.attn.c_attn.weight`.
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// Dimensions, outermost first (row-major); empty for a scalar.
    public let shape: [Int]
    /// Byte range within the data buffer that follows the header.
    public let dataOffsets: Range<Int>
    /// Product of `shape` (1 for a scalar).
    public let elementCount: Int
}
