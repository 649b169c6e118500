import GPT2
import Kernels

/// Global L2 norm of a gradient buffer, accumulated in `Double` so the value does not depend on
/// float rounding of a 124M-term sum. Sums of squares are taken per fixed block of elements on
/// the kernel threads and added in block order, so the result does not depend on the thread count.
public func gradientNorm(_ gradients: FloatBuffer) -> Double {
    let block = 1 << 16
    let blocks = (gradients.count + block - 1) / block
    var partial = [Double](repeating: 0, count: blocks)
    let g = gradients.base, count = gradients.count
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
    return partial.reduce(0, +).squareRoot()
}

/// Clips gradients to a global norm as `torch.nn.utils.clip_grad_norm_` does: with
/// `coef = maxNorm / (norm + 1e-6)`, gradients are scaled by `coef` when it is below 1.
///
/// - Returns: the norm before clipping (what TRL logs as `grad_norm`).
@discardableResult
public func clipGradientNorm(_ gradients: FloatBuffer, maxNorm: Double) -> Double {
    let norm = gradientNorm(gradients)
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        let scale = Float(coefficient)
        let g = gradients.base
        parallelRanges(gradients.count, minimumPerThread: 1 << 16) { range in
            for i in range { g[i] *= scale }
        }
    }
    return norm
}
