/// A fast 64-bit content fingerprint (FNV-1a over 8-byte words), for cache keys and for checking
/// that every rank holds the same weights or data. Not a cryptographic hash.
public struct ContentHash: Equatable, Sendable {
    /// The current fingerprint.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    /// An empty fingerprint.
    public init() {}

    /// Mixes in raw bytes (whole 8-byte words, then the tail byte by byte).
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        let words = bytes.count / 8
        var h = value
        for i in 0..<words {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* prime
        }
        for i in (words * 8)..<bytes.count { h = (h ^ UInt64(bytes[i])) &* prime }
        value = h
    }

    /// Mixes in the bytes of an array of plain values.
    public mutating func update<T: BitwiseCopyable>(_ values: [T]) {
        values.withUnsafeBytes { update($0) }
    }

    /// Mixes in a string's UTF-8 bytes and a terminator, so ("ab","c") ≠ ("a","bc").
    public mutating func update(_ text: String) {
        update(Array(text.utf8) + [0])
    }

    /// The fingerprint as 16 hexadecimal digits.
    public var hex: String { Self.hex(value) }

    /// A fingerprint value as 16 hexadecimal digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
