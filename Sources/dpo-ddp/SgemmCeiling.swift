import DPO
import Foundation
import GPT2
import Kernels

/// The large-sgemm ceiling of this process: GFLOP/s of `matmulForward` (OpenBLAS sgemm, no bias)
/// on `size` × `size` × `size` operands with the threads in use, the best of `repeats` products
/// after one warm-up. A step of a 124M model cannot beat it by much, so it is the yardstick of
/// effective GFLOP/s.
enum SgemmCeiling {
    /// Measures the ceiling (about a second for size 2048 on two cores).
    static func gflops(size: Int = 2048, repeats: Int = 5) -> Double {
        let a = FloatBuffer(count: size * size), b = FloatBuffer(count: size * size), c = FloatBuffer(count: size * size)
        for i in 0..<(size * size) {
            a.base[i] = Float(i % 7) * 1e-3
            b.base[i] = Float(i % 5) * 1e-3
        }
        var best = Double.infinity
        for attempt in 0...repeats {
            let start = ContinuousClock.now
            matmulForward(out: c.base, inp: a.base, weight: b.base, bias: nil, rows: size, inChannels: size, outChannels: size)
            let seconds = (ContinuousClock.now - start).inSeconds
            if attempt > 0 { best = min(best, seconds) }
        }
        return 2 * pow(Double(size), 3) / best / 1e9
    }
}
