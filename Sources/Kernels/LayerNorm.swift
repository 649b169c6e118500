/// Layer normalisation over the last dimension, as `torch.nn.LayerNorm` (biased variance).
///
/// Shapes:
///   inp [N, C]   weight [C]   bias [C]
///   out [N, C]   mean [N]   rstd [N]  (saved for the backward pass)
///   out[n, c] = (inp[n, c] - mean[n]) * rstd[n] * weight[c] + bias[c],  rstd = 1/sqrt(var + eps)
@inlinable
public func layerNormForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, mean: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>,
    inp: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>,
    rows n: Int, channels c: Int, epsilon: T
) {
    parallelRanges(n, minimumPerThread: 16) { range in
        for row in range {
            let x = inp + row * c
            var sum: T = 0
            for i in 0..<c { sum += x[i] }
            let m = sum / T(c)
            var variance: T = 0
            for i in 0..<c {
                let d = x[i] - m
                variance += d * d
            }
            variance /= T(c)
            let s = 1 / T.sqrt(variance + epsilon)
            let y = out + row * c
            for i in 0..<c { y[i] = (x[i] - m) * s * weight[i] + bias[i] }
            mean[row] = m
            rstd[row] = s
        }
    }
}

/// Backward of `layerNormForward`; all gradients are accumulated (`+=`).
///
/// Shapes: dout, inp, dinp [N, C]; weight, dweight, dbias [C]; mean, rstd [N].
///   x̂ = (inp - mean) * rstd,  g = dout * weight
///   dinp += rstd * (g - mean_c(g) - x̂ * mean_c(g * x̂))
///   dweight += Σ_n dout * x̂,  dbias += Σ_n dout
/// Parameter gradients are summed per block of `layerNormBlockRows` rows and the block sums
/// are added in order, so the result does not depend on the thread count.
@inlinable
public func layerNormBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dweight: UnsafeMutablePointer<T>, dbias: UnsafeMutablePointer<T>,
    dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
    mean: UnsafePointer<T>, rstd: UnsafePointer<T>, rows n: Int, channels c: Int
) {
    let blockRows = layerNormBlockRows
    let blocks = (n + blockRows - 1) / blockRows
    let partial = UnsafeMutablePointer<T>.allocate(capacity: blocks * 2 * c)
    defer { partial.deallocate() }
    partial.initialize(repeating: 0, count: blocks * 2 * c)
    parallelRanges(blocks) { blockRange in
        for block in blockRange {
            let pw = partial + block * 2 * c
            let pb = pw + c
            for row in (block * blockRows)..<min(n, (block + 1) * blockRows) {
                let x = inp + row * c
                let dy = dout + row * c
                let dx = dinp + row * c
                let m = mean[row]
                let s = rstd[row]
                var meanG: T = 0
                var meanGX: T = 0
                for i in 0..<c {
                    let xhat = (x[i] - m) * s
                    let g = dy[i] * weight[i]
                    meanG += g
                    meanGX += g * xhat
                }
                meanG /= T(c)
                meanGX /= T(c)
                for i in 0..<c {
                    let xhat = (x[i] - m) * s
                    let g = dy[i] * weight[i]
                    dx[i] += s * (g - meanG - xhat * meanGX)
                    pw[i] += dy[i] * xhat
                    pb[i] += dy[i]
                }
            }
        }
    }
    for block in 0..<blocks {
        let pw = partial + block * 2 * c
        let pb = pw + c
        for i in 0..<c {
            dweight[i] += pw[i]
            dbias[i] += pb[i]
        }
    }
}

/// Rows per block in `layerNormBackward`'s parameter-gradient reduction.
public let layerNormBlockRows = 32
