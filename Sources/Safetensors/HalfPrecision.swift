/// Exact conversions between 16-bit float bit patterns and `Float`, and
/// round-to-nearest-even conversions back. Bit patterns are host-order integers;
/// byte order is the callers' business.
enum HalfPrecision {
    /// IEEE 754 binary16 to binary32, exact for every pattern (subnormals, ±0, ±inf,
    /// NaN payloads shifted into the top of the binary32 mantissa).
    @inline(__always)
    static func float(fromF16 half: UInt16) -> Float {
        let sign = UInt32(half & 0x8000) << 16
        let exponent = UInt32(half >> 10) & 0x1F
        let mantissa = UInt32(half & 0x03FF)
        switch exponent {
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        case 0:
            // ±0 or subnormal: mantissa × 2^-24, exact since mantissa < 2^10.
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    /// bfloat16 to binary32: the pattern is the upper half of the binary32 pattern.
    @inline(__always)
    static func float(fromBF16 half: UInt16) -> Float {
        Float(bitPattern: UInt32(half) << 16)
    }

    /// binary32 to binary16, rounding to nearest, ties to even. Overflow gives ±inf;
    /// NaN stays NaN (quiet, sign and top payload bits kept).
    @inline(__always)
    static func f16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {
            let nan: UInt16 = magnitude > 0x7F80_0000 ? 0x0200 | UInt16(truncatingIfNeeded: magnitude >> 13) & 0x03FF : 0
            return sign | 0x7C00 | nan
        }
        if magnitude >= 0x477F_F000 { return sign | 0x7C00 }  // ≥ 65520 rounds past 65504
        let exponent = Int(magnitude >> 23)
        if exponent < 113 {
            // Result is subnormal (or rounds up to the smallest normal): value / 2^-24.
            let shift = 126 - exponent
            guard shift <= 25 else { return sign }
            let significand = magnitude & 0x007F_FFFF | 0x0080_0000
            return sign | UInt16(roundShifted(significand, by: UInt32(shift)))
        }
        let rebiased = magnitude - (112 << 23)
        return sign | UInt16(roundShifted(rebiased, by: 13))
    }

    /// binary32 to bfloat16, rounding to nearest, ties to even. Overflow gives ±inf;
    /// NaN stays NaN (quiet, sign and top payload bits kept).
    @inline(__always)
    static func bf16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: roundShifted(bits, by: 16))
    }

    /// `value >> shift`, rounded to nearest with ties to even; a carry out of the
    /// kept mantissa bits correctly increments the exponent field above them.
    @inline(__always)
    private static func roundShifted(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let dropped = value & ((1 << shift) &- 1)
        let half: UInt32 = 1 << (shift &- 1)
        return dropped > half || (dropped == half && kept & 1 == 1) ? kept + 1 : kept
    }
}
