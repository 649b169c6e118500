import Kernels
import XCTest

/// The counter-based dropout: its mask is a pure function of (seed, stream, element), it drops
/// about p of the elements, keeps the others scaled by 1/(1 − p), and its backward applies the
/// same mask.
final class DropoutTests: XCTestCase {
    func dropped(_ x: [Float], p: Double, seed: UInt64, stream: UInt64) -> [Float] {
        var out = [Float](repeating: .nan, count: x.count)
        dropoutForward(out: &out, inp: x, count: x.count, probability: p, seed: seed, stream: stream)
        return out
    }

    func testMaskIsAPureFunctionOfSeedStreamAndElement() {
        let ones = [Float](repeating: 1, count: 20_000)
        let first = dropped(ones, p: 0.3, seed: 5, stream: 9)
        XCTAssertEqual(dropped(ones, p: 0.3, seed: 5, stream: 9), first)
        XCTAssertNotEqual(dropped(ones, p: 0.3, seed: 6, stream: 9), first)
        XCTAssertNotEqual(dropped(ones, p: 0.3, seed: 5, stream: 10), first)
        // A shorter call sees the same mask on its elements, and so does any split over threads.
        XCTAssertEqual(dropped(Array(ones.prefix(777)), p: 0.3, seed: 5, stream: 9), Array(first.prefix(777)))
        defer { KernelThreads.set(0) }
        for threads in [1, 3] {
            KernelThreads.set(threads)
            XCTAssertEqual(dropped(ones, p: 0.3, seed: 5, stream: 9), first, "\(threads) threads")
        }
        // Kept elements are 1/(1 − p) (rounded as torch does: 1 / float32(1 − p)), the others 0.
        let kept = 1 / Float(0.7)
        XCTAssertTrue(first.allSatisfy { $0 == 0 || $0 == kept })
        // The drop fraction of 20,000 Bernoulli(0.3) draws: standard deviation sqrt(0.21/20000) = 0.0032;
        // 0.3 ± 0.016 is five of them.
        let fraction = Double(first.filter { $0 == 0 }.count) / Double(first.count)
        XCTAssertEqual(fraction, 0.3, accuracy: 0.016)
        // Neighbouring streams are not shifted copies of each other: their masks agree on about
        // 0.7² + 0.3² = 58% of elements (±1.8% at five standard deviations).
        let other = dropped(ones, p: 0.3, seed: 5, stream: 10)
        let agreement = Double(zip(first, other).filter { ($0 == 0) == ($1 == 0) }.count) / Double(first.count)
        XCTAssertEqual(agreement, 0.58, accuracy: 0.018)
    }

    func testZeroProbabilityKeepsEverything() {
        var rng = TestRandom(3)
        let x = rng.array(1000).map(Float.init)
        XCTAssertEqual(dropped(x, p: 0, seed: 1, stream: 2), x)
    }

    /// For a fixed mask the dropout is linear: its backward is the exact gradient of Σ out · dout.
    func testBackwardAppliesTheSameMask() {
        var rng = TestRandom(4)
        let x = rng.array(300), dout = rng.array(300)
        func forward(_ x: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: x.count)
            dropoutForward(out: &out, inp: x, count: x.count, probability: 0.4, seed: 8, stream: 1)
            return out
        }
        var dx = [Double](repeating: 0, count: 300)
        dropoutBackward(dinp: &dx, dout: dout, count: 300, probability: 0.4, seed: 8, stream: 1)
        assertGradient("dropout", input: x, analytic: dx) { dot(forward($0), dout) }
        var accumulated = [Double](repeating: 1, count: 300)
        dropoutBackward(dinp: &accumulated, dout: dout, count: 300, probability: 0.4, seed: 8, stream: 1)
        for (a, d) in zip(accumulated, dx) { XCTAssertEqual(a, d + 1, accuracy: 1e-12) }
    }
}
