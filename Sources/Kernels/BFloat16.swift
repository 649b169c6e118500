import CLaneMath

/// Conversions between `Float` and bfloat16 bit patterns (the upper 16 bits of a float32:
/// sign, 8 exponent bits, 7 mantissa bits), 16 values per vector instruction and split over
/// the kernel threads: the bf16 copy of the weights is refreshed from all of them every step.
public enum BFloat16 {
    /// Rounds `count` floats to bfloat16 bit patterns, to nearest, ties to even (NaN stays NaN).
    public static func round(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>, count: Int) {
        parallelRanges(count, minimumPerThread: minimumPerThread) { range in
            roundOnThisThread(source + range.lowerBound, into: destination + range.lowerBound, count: range.count)
        }
    }

    /// `round` on the calling thread only: for a kernel that rounds blocks of what it just wrote,
    /// while they are in cache.
    public static func roundOnThisThread(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<UInt16>,
                                         count: Int) {
        for (i, n) in chunks(of: SIMD16<Float>.self, in: 0..<count) {
            let x = SIMD16<Float>(loadingFrom: source + i, count: n, padding: 0)
            rounded(unsafeBitCast(x, to: SIMD16<UInt32>.self)).store(to: destination + i, count: n)
        }
    }

    /// Widens bfloat16 bit patterns to floats (exact).
    public static func widen(_ source: UnsafePointer<UInt16>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        parallelRanges(count, minimumPerThread: minimumPerThread) { range in
            var i = range.lowerBound
            while i + 16 <= range.upperBound {
                let x = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<UInt16>.self)
                UnsafeMutableRawPointer(destination + i).storeBytes(of: SIMD16<UInt32>(truncatingIfNeeded: x) &<< 16,
                                                                    as: SIMD16<UInt32>.self)
                i += 16
            }
            while i < range.upperBound {
                destination[i] = Float(bitPattern: UInt32(source[i]) << 16)
                i += 1
            }
        }
    }

    /// Values per thread below which a conversion stays on one thread (64 K values, 256 KB read).
    static let minimumPerThread = 1 << 16

    /// float32 bit patterns to bfloat16 ones: add 0x7FFF plus the lowest kept bit and drop the low
    /// half (round to nearest, ties to even; finite values past the largest bfloat16 become ±inf);
    /// NaNs keep their sign and top payload bits, with the quiet bit set. Lane-wise integer
    /// arithmetic in C (`dpo_lane_bf16_round16`): Swift's narrowing of a `SIMD16<UInt32>` and its
    /// `SIMDMask` selects compile to 128-bit pieces or a loop over the lanes.
    @inline(__always)
    static func rounded(_ bits: SIMD16<UInt32>) -> SIMD16<UInt16> { dpo_lane_bf16_round16(bits) }
}
