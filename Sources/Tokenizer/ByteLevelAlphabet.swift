/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode scalars.
///
/// Byte-level BPE vocabularies (`vocab.json`, `merges.txt`) spell every token as a string of these
/// scalars: printable Latin-1 bytes stand for themselves and the others (controls, space, soft
/// hyphen...) are shifted to U+0100 and above, so that `Ġ` (U+0120) is the space byte 0x20.
enum ByteLevelAlphabet {
    /// The scalar that spells each byte value, indexed by byte.
    static let scalars: [Unicode.Scalar] = {
        let printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var scalars = [Unicode.Scalar](repeating: " ", count: 256)
        var shifted: UInt32 = 256
        for byte in 0..<256 {
            if printable.contains(byte) {
                scalars[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                scalars[byte] = Unicode.Scalar(shifted)!
                shifted += 1
            }
        }
        return scalars
    }()

    /// The byte each alphabet scalar stands for, keyed by scalar value.
    private static let bytesByScalar: [UInt32: UInt8] = {
        var bytes = [UInt32: UInt8]()
        for (byte, scalar) in scalars.enumerated() { bytes[scalar.value] = UInt8(byte) }
        return bytes
    }()

    /// The bytes a vocabulary entry stands for, or nil if a scalar is outside the alphabet.
    static func unspell(_ token: String) -> [UInt8]? {
        var raw = [UInt8]()
        for scalar in token.unicodeScalars {
            guard let byte = bytesByScalar[scalar.value] else { return nil }
            raw.append(byte)
        }
        return raw
    }
}
