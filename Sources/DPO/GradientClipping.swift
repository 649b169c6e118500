import GPT2
import Kernels

/// Sum of the squares of `values`, accumulated in `Double` so the value does not depend on float
/// rounding of a 124M-term sum. Sums are taken per fixed block of elements on the kernel threads
/// and added in block order, so the result does not depend on the thread count.
public func sumOfSquares(_ values: UnsafeBufferPointer<Float>) -> Double {
    let block = 1 << 16
    let blocks = (values.count + block - 1) / block
    var partial = [Double](repeating: 0, count: blocks)
    guard let g = values.baseAddress else { return 0 }
    let count = values.count
    partial.withUnsafeMutableBufferPointer { sums in
        let sums = sums.baseAddress!
        parallelRanges(blocks) { range in
            // Four whole blocks at a time, their vectors interleaved: four read streams per thread
            // reached 1.6x the bandwidth of one on a 2-core VM (22 against 13 GB/s), and each block
            // keeps its own sums in its own order, so the result does not depend on the grouping.
            var b = range.lowerBound
            while b + 4 <= range.upperBound, (b + 4) * block <= count {
                var s0 = SquareSums(), s1 = SquareSums(), s2 = SquareSums(), s3 = SquareSums()
                let p = g + b * block
                for i in stride(from: 0, to: block, by: 16) {
                    s0.add(SIMD16<Float>(loadingFrom: p + i, count: 16, padding: 0))
                    s1.add(SIMD16<Float>(loadingFrom: p + block + i, count: 16, padding: 0))
                    s2.add(SIMD16<Float>(loadingFrom: p + 2 * block + i, count: 16, padding: 0))
                    s3.add(SIMD16<Float>(loadingFrom: p + 3 * block + i, count: 16, padding: 0))
                }
                (sums[b], sums[b + 1], sums[b + 2], sums[b + 3]) = (s0.total, s1.total, s2.total, s3.total)
                b += 4
            }
            for b in b..<range.upperBound {
                var s = SquareSums()
                for (i, n) in chunks(of: SIMD16<Float>.self, in: (b * block)..<min(count, (b + 1) * block)) {
                    s.add(SIMD16<Float>(loadingFrom: g + i, count: n, padding: 0))
                }
                sums[b] = s.total
            }
        }
    }
    return partial.reduce(0, +)
}

/// One block's running sum of squares: two eight-lane Double sums, sixteen independent dependency
/// chains, enough to keep up with memory (four lanes left the sum latency-bound at half the bandwidth).
private struct SquareSums {
    var low = SIMD8<Double>(), high = SIMD8<Double>()

    @inline(__always) mutating func add(_ x: SIMD16<Float>) {
        let xLow = SIMD8<Double>(x.lowHalf), xHigh = SIMD8<Double>(x.highHalf)
        low += xLow * xLow
        high += xHigh * xHigh
    }

    var total: Double { (low + high).sum() }
}

/// Global L2 norm of a gradient buffer (see `sumOfSquares`).
public func gradientNorm(_ gradients: FloatBuffer) -> Double {
    sumOfSquares(UnsafeBufferPointer(gradients.buffer)).squareRoot()
}

/// The factor `torch.nn.utils.clip_grad_norm_` scales a gradient of global norm `norm` by:
/// `maxNorm / (norm + 1e-6)` when that is below 1, else 1 (also for `maxNorm` 0: no clipping).
public func clipCoefficient(norm: Double, maxNorm: Double) -> Float {
    let coefficient = maxNorm / (norm + 1e-6)
    return maxNorm > 0 && coefficient < 1 ? Float(coefficient) : 1
}

/// Clips gradients to a global norm as `torch.nn.utils.clip_grad_norm_` does (see
/// `clipCoefficient`). Training fuses the scaling into AdamW instead (`AdamW.step(gradientScale:)`).
///
/// - Returns: the norm before clipping (what TRL logs as `grad_norm`).
@discardableResult
public func clipGradientNorm(_ gradients: FloatBuffer, maxNorm: Double) -> Double {
    let norm = gradientNorm(gradients)
    let scale = clipCoefficient(norm: norm, maxNorm: maxNorm), g = gradients.base
    if scale < 1 {
        parallelRanges(gradients.count, minimumPerThread: 1 << 16) { range in
            for i in range { g[i] *= scale }
        }
    }
    return norm
}
