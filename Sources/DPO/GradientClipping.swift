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
            for b in range {
                var sum = 0.0
                for i in (b * block)..<min(count, (b + 1) * block) {
                    let x = Double(g[i])
                    sum += x * x
                }
                sums[b] = sum
            }
        }
    }
    return partial.reduce(0, +)
}

/// Global L2 norm of a gradient buffer (see `sumOfSquares`).
public func gradientNorm(_ gradients: FloatBuffer) -> Double {
    sumOfSquares(UnsafeBufferPointer(gradients.buffer)).squareRoot()
}

/// Scales `values`, part of a gradient whose global norm is `norm`, as
/// `torch.nn.utils.clip_grad_norm_` does: by `coef = maxNorm / (norm + 1e-6)` when it is below 1.
public func clip(_ values: UnsafeMutableBufferPointer<Float>, norm: Double, maxNorm: Double) {
    let coefficient = maxNorm / (norm + 1e-6)
    guard coefficient < 1, let g = values.baseAddress else { return }
    let scale = Float(coefficient)
    parallelRanges(values.count, minimumPerThread: 1 << 16) { range in
        for i in range { g[i] *= scale }
    }
}

/// Clips gradients to a global norm as `torch.nn.utils.clip_grad_norm_` does (see `clip`).
///
/// - Returns: the norm before clipping (what TRL logs as `grad_norm`).
@discardableResult
public func clipGradientNorm(_ gradients: FloatBuffer, maxNorm: Double) -> Double {
    let norm = gradientNorm(gradients)
    clip(gradients.buffer, norm: norm, maxNorm: maxNorm)
    return norm
}
