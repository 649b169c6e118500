import DPO
import GPT2
import Kernels
import XCTest

/// The global gradient norm's sum of squares and the clipping factor made from it.
final class GradientNormTests: XCTestCase {
    /// Seeded values in [-1, 1).
    func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }

    /// Against a plain Double loop over buffers of whole blocks and a ragged tail (the lanes'
    /// padding must add nothing); ten blocks also run four at a time, interleaved, on one or two threads. Both sum in Double, only in another order: the relative
    /// difference is bounded by ~count·2⁻⁵³ ≈ 2e-11 and measured near 1e-15; 1e-12 leaves room.
    func testSumOfSquaresEqualsPlainDoubleSum() {
        for count in [0, 1, 15, 17, 3 * 65_536 + 37, 9 * 65_536 + 37] {
            let x = values(count, seed: UInt64(count) + 1)
            let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            let got = x.withUnsafeBufferPointer { sumOfSquares($0) }
            XCTAssertEqual(got, expected, accuracy: 1e-12 * max(expected, 1), "count \(count)")
        }
    }

    /// Fixed blocks added in block order: the same bits for any thread count (one thread sums four
    /// of the blocks interleaved, two and three threads sum each alone).
    func testSumOfSquaresDoesNotDependOnThreadCount() {
        let x = values(5 * 65_536 + 3, seed: 9)
        defer { KernelThreads.set(0) }
        let sums = [1, 2, 3].map { threads -> Double in
            KernelThreads.set(threads)
            return x.withUnsafeBufferPointer { sumOfSquares($0) }
        }
        XCTAssertEqual(sums[0].bitPattern, sums[1].bitPattern)
        XCTAssertEqual(sums[0].bitPattern, sums[2].bitPattern)
    }

    /// `clip_grad_norm_`'s factor: max / (norm + 1e-6) below 1, else 1; 0 turns clipping off.
    func testClipCoefficient() {
        XCTAssertEqual(clipCoefficient(norm: 4, maxNorm: 1), Float(1 / (4 + 1e-6)))
        XCTAssertEqual(clipCoefficient(norm: 0.5, maxNorm: 1), 1)
        XCTAssertEqual(clipCoefficient(norm: 4, maxNorm: 0), 1)
    }
}
