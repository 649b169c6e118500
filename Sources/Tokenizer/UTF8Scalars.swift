/// Reads scalars straight out of valid UTF-8 bytes (Swift strings always hold valid UTF-8).
extension UnsafeBufferPointer where Element == UInt8 {
    /// The scalar value starting at byte `index` and its length in bytes.
    @inline(__always)
    func scalar(at index: Int) -> (value: UInt32, length: Int) {
        let lead = UInt32(self[index])
        if lead < 0x80 { return (lead, 1) }
        if lead < 0xE0 {
            return ((lead & 0x1F) << 6 | UInt32(self[index + 1] & 0x3F), 2)
        }
        if lead < 0xF0 {
            return ((lead & 0x0F) << 12 | UInt32(self[index + 1] & 0x3F) << 6
                | UInt32(self[index + 2] & 0x3F), 3)
        }
        return ((lead & 0x07) << 18 | UInt32(self[index + 1] & 0x3F) << 12
            | UInt32(self[index + 2] & 0x3F) << 6 | UInt32(self[index + 3] & 0x3F), 4)
    }
}
