import Kernels
import TestSupport
import XCTest

/// `BFloat16.round` / `widen` against `referenceBF16`, exactly (both are exact operations: no tolerance).
final class BFloat16Tests: XCTestCase {
    /// Bit patterns that exercise every rule: ties with an even and an odd last kept bit, the
    /// neighbours of ties, ±0, subnormals, the largest finite floats (which round to ±inf), ±inf,
    /// quiet and signalling NaNs (a payload only in the dropped half must still give a NaN).
    static let specials: [UInt32] = [
        0x3F80_8000, 0x3F81_8000, 0x3F80_7FFF, 0x3F80_8001, 0xBF80_8000, 0xBF81_8000,
        0x0000_0000, 0x8000_0000, 0x0000_0001, 0x0000_8000, 0x0001_8000, 0x807F_FFFF, 0x0080_0000,
        0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F7F_7FFF, 0x7F7F_8000, 0x7F80_0000, 0xFF80_0000,
        0x7FC0_0000, 0x7F80_0001, 0xFF80_0001, 0x7FFF_FFFF,
    ]

    func patterns(count: Int) -> [Float] {
        var r = TestRandom(7)
        var values = Self.specials.map(Float.init(bitPattern:))
        while values.count < count {
            values.append(Float(bitPattern: UInt32(truncatingIfNeeded: Int64((r.next() + 1) * 0x1p31))))
        }
        return values
    }

    /// Every value rounds to the nearest bfloat16 and widens back exactly, in the vector body, the
    /// scalar tail (a count that is not a multiple of 16) and across the threads' ranges
    /// (more than 2 × 64 K values).
    func testRoundingIsNearestEvenAndWideningExact() {
        for count in [Self.specials.count, 1000, (1 << 17) + 5] {
            let values = patterns(count: count)
            var bits = [UInt16](repeating: 0, count: count)
            var widened = [Float](repeating: 0, count: count)
            BFloat16.round(values, into: &bits, count: count)
            BFloat16.widen(bits, into: &widened, count: count)
            var wrong = 0
            for i in 0..<count {
                let expected = referenceBF16(values[i]), got = widened[i]
                let same = expected.isNaN ? got.isNaN && got.sign == values[i].sign : Double(got) == expected && got.sign == values[i].sign
                if !same {
                    if wrong < 5 {
                        XCTFail("count \(count): \(String(values[i].bitPattern, radix: 16)) -> \(String(bits[i], radix: 16)), expected \(expected)")
                    }
                    wrong += 1
                }
                XCTAssertEqual(bits[i], UInt16(truncatingIfNeeded: got.bitPattern >> 16))
            }
            XCTAssertEqual(wrong, 0, "count \(count): values rounded wrongly")
        }
    }
}
