import Foundation
import Safetensors
import XCTest

/// F16 and BF16 decoding is exact and encoding rounds to nearest, ties to even, checked
/// against known bit patterns and against independent arithmetic over every pattern.
final class HalfPrecisionTests: XCTestCase {
    private func decode(_ patterns: [UInt16], _ dtype: String) throws -> [UInt32] {
        try SafetensorsFile(data: halfFile(patterns, dtype: dtype)).floats("t").map(\.bitPattern)
    }

    private func encode(_ values: [Float], as dtype: SafetensorsDType) throws -> [UInt16] {
        var writer = SafetensorsWriter()
        try writer.add("t", shape: [values.count], floats: values, dtype: dtype)
        return halfPatterns(try tensorBytes("t", in: writer.serialized()))
    }

    func testKnownF16Patterns() throws {
        let cases: [(UInt16, Float)] = [
            (0x3C00, 1), (0x7BFF, 65504), (0x0001, 0x1p-24), (0x03FF, 0x1.ff8p-15), (0x0400, 0x1p-14),
            (0xFC00, -.infinity), (0x7C00, .infinity), (0x8000, -0.0), (0xC000, -2), (0x3555, 0x1.554p-2),
        ]
        XCTAssertEqual(try decode(cases.map(\.0), "F16"), cases.map(\.1.bitPattern))
        XCTAssertEqual(try decode([0x7E00, 0xFE01], "F16"), [0x7FC0_0000, 0xFFC0_2000])
        XCTAssertEqual(try encode(cases.map(\.1), as: .f16), cases.map(\.0))
    }

    func testKnownBF16Patterns() throws {
        let cases: [(UInt16, Float)] = [
            (0x3F80, 1), (0xC000, -2), (0x4049, 3.140625), (0x7F7F, 0x1.fep127), (0x0001, 0x1p-133),
            (0x0080, 0x1p-126), (0xFF80, -.infinity), (0x8000, -0.0),
        ]
        XCTAssertEqual(try decode(cases.map(\.0), "BF16"), cases.map(\.1.bitPattern))
        XCTAssertEqual(try decode([0x7FC0], "BF16"), [0x7FC0_0000])
        XCTAssertEqual(try encode(cases.map(\.1), as: .bf16), cases.map(\.0))
    }

    func testEveryF16PatternDecodesExactly() throws {
        let patterns = Array(0 ... UInt16.max)
        let decoded = try decode(patterns, "F16").map { Float(bitPattern: $0) }
        // Independent arithmetic: (-1)^s × significand × 2^exponent; NaNs keep their sign.
        let wrong = zip(patterns, decoded).filter { pattern, value in
            let exponent = Int(pattern >> 10 & 0x1F), mantissa = Int(pattern & 0x3FF)
            let sign: FloatingPointSign = pattern & 0x8000 == 0 ? .plus : .minus
            if exponent == 0x1F {
                return (mantissa == 0 ? !value.isInfinite : !value.isNaN) || value.sign != sign
            }
            let significand = Float(mantissa) / 1024 + (exponent == 0 ? 0 : 1)
            let expected = Float(sign: sign, exponent: max(exponent, 1) - 15, significand: significand)
            return value.bitPattern != expected.bitPattern
        }
        XCTAssertTrue(wrong.isEmpty, "\(wrong.count) patterns decode wrongly, e.g. \(wrong.prefix(4))")
    }

    func testEveryF16PatternSurvivesARoundTrip() throws {
        let patterns = Array(0 ... UInt16.max)
        let values = try decode(patterns, "F16").map { Float(bitPattern: $0) }
        // Only signalling NaNs change: they gain the quiet bit and keep sign and payload.
        let quieted = patterns.map { $0 & 0x7C00 == 0x7C00 && $0 & 0x3FF != 0 ? $0 | 0x200 : $0 }
        XCTAssertSameElements(try encode(values, as: .f16), quieted, "F16 patterns")
    }

    func testF16RoundsToNearestEven() throws {
        let finite = try decode(Array(0 ... 0x7BFF), "F16").map { Float(bitPattern: $0) }
        var inputs: [Float] = [], expected: [UInt16] = []
        for pattern: UInt16 in 0 ..< 0x7BFF {
            let midpoint = (finite[Int(pattern)] + finite[Int(pattern) + 1]) / 2
            let even = pattern & 1 == 0 ? pattern : pattern + 1
            for (value, result) in [(midpoint, even), (midpoint.nextDown, pattern), (midpoint.nextUp, pattern + 1)] {
                inputs += [value, -value]
                expected += [result, result | 0x8000]
            }
        }
        inputs += [65519.996, 65520, 1e10, -1e10, 0x1p-25, 0x1.000002p-25, -1e-10, .leastNonzeroMagnitude]
        expected += [0x7BFF, 0x7C00, 0x7C00, 0xFC00, 0x0000, 0x0001, 0x8000, 0x0000]
        XCTAssertSameElements(try encode(inputs, as: .f16), expected, "F16 roundings")
    }

    func testBF16RoundsToNearestEven() throws {
        var inputs: [Float] = [], expected: [UInt16] = []
        for pattern: UInt16 in 0 ... 0x7F7F {
            let midpoint = Float(bitPattern: UInt32(pattern) << 16 | 0x8000)
            let even = pattern & 1 == 0 ? pattern : pattern + 1
            for (value, result) in [(midpoint, even), (midpoint.nextDown, pattern), (midpoint.nextUp, pattern + 1)] {
                inputs += [value, -value]
                expected += [result, result | 0x8000]
            }
        }
        inputs += [.greatestFiniteMagnitude, .infinity, -.infinity, .nan]
        expected += [0x7F80, 0x7F80, 0xFF80, 0x7FC0]
        XCTAssertSameElements(try encode(inputs, as: .bf16), expected, "BF16 roundings")
    }

    func testEveryBF16PatternRoundTrips() throws {
        let patterns = Array(0 ... UInt16.max)
        let decoded = try decode(patterns, "BF16")
        XCTAssertSameElements(decoded, patterns.map { UInt32($0) << 16 }, "BF16 decodings")
        let quieted = patterns.map { $0 & 0x7F80 == 0x7F80 && $0 & 0x7F != 0 ? $0 | 0x40 : $0 }
        XCTAssertSameElements(try encode(decoded.map { Float(bitPattern: $0) }, as: .bf16), quieted, "BF16 patterns")
    }
}
