/// Layer normalisation over the last dimension, as `torch.nn.LayerNorm` (biased variance).
///
/// Shapes:
///   inp [N, C]   weight [C]   bias [C]
///   out [N, C]   mean [N]   rstd [N]  (saved for the backward pass)
///   out[n, c] = (inp[n, c] - mean[n]) * rstd[n] * weight[c] + bias[c],  rstd = 1/sqrt(var + eps)
/// Rows are split across the kernel threads; within a row the sums and the normalisation run
/// `T.Lanes` channels at a time (two passes for mean and variance, then one for the output).
@inlinable
public func layerNormForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, mean: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>,
    inp: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>,
    rows n: Int, channels c: Int, epsilon: T
) {
    parallelRanges(n, minimumPerThread: 16) { range in
        for row in range {
            let x = inp + row * c
            var laneSum = T.Lanes(repeating: 0)
            for (i, k) in chunks(of: T.Lanes.self, in: 0..<c) {
                laneSum += T.Lanes(loadingFrom: x + i, count: k, padding: 0)
            }
            let m = laneSum.sum() / T(c)
            let mv = T.Lanes(repeating: m)
            var laneSquares = T.Lanes(repeating: 0)
            for (i, k) in chunks(of: T.Lanes.self, in: 0..<c) {
                // Padding with the mean gives the missing lanes a deviation of 0.
                let d = T.Lanes(loadingFrom: x + i, count: k, padding: m) - mv
                laneSquares += d * d
            }
            let s = 1 / T.sqrt(laneSquares.sum() / T(c) + epsilon)
            let sv = T.Lanes(repeating: s)
            let y = out + row * c
            for (i, k) in chunks(of: T.Lanes.self, in: 0..<c) {
                let xhat = (T.Lanes(loadingFrom: x + i, count: k, padding: 0) - mv) * sv
                let w = T.Lanes(loadingFrom: weight + i, count: k, padding: 0)
                let b = T.Lanes(loadingFrom: bias + i, count: k, padding: 0)
                (xhat * w + b).store(to: y + i, count: k)
            }
            mean[row] = m
            rstd[row] = s
        }
    }
}

/// Backward of `layerNormForward`; all gradients are accumulated (`+=`). With `dweight` and
/// `dbias` nil (a frozen LayerNorm: LoRA) only `dinp` is computed.
///
/// Shapes: dout, inp, dinp [N, C]; weight, dweight, dbias [C]; mean, rstd [N].
///   x̂ = (inp - mean) * rstd,  g = dout * weight
///   dinp += rstd * (g - mean_c(g) - x̂ * mean_c(g * x̂))
///   dweight += Σ_n dout * x̂,  dbias += Σ_n dout
/// Parameter gradients are summed per block of `layerNormBlockRows` rows and the block sums
/// are added in order, so the result does not depend on the thread count. Within a row the
/// channels run `T.Lanes` at a time.
@inlinable
public func layerNormBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dweight: UnsafeMutablePointer<T>?, dbias: UnsafeMutablePointer<T>?,
    dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
    mean: UnsafePointer<T>, rstd: UnsafePointer<T>, rows n: Int, channels c: Int
) {
    precondition((dweight == nil) == (dbias == nil), "layerNormBackward: dweight and dbias are both given or both nil")
    let parameters = dweight != nil
    let blockRows = layerNormBlockRows
    let blocks = (n + blockRows - 1) / blockRows
    let partial = UnsafeMutablePointer<T>.allocate(capacity: parameters ? blocks * 2 * c : 0)
    defer { partial.deallocate() }
    partial.initialize(repeating: 0, count: parameters ? blocks * 2 * c : 0)
    parallelRanges(blocks) { blockRange in
        for block in blockRange {
            let pw = partial + block * 2 * c
            let pb = pw + c
            for row in (block * blockRows)..<min(n, (block + 1) * blockRows) {
                let x = inp + row * c
                let dy = dout + row * c
                let dx = dinp + row * c
                let mv = T.Lanes(repeating: mean[row])
                let s = rstd[row]
                let sv = T.Lanes(repeating: s)
                // Padded lanes have dout = 0, so they add nothing to either sum.
                var laneG = T.Lanes(repeating: 0)
                var laneGX = T.Lanes(repeating: 0)
                for (i, k) in chunks(of: T.Lanes.self, in: 0..<c) {
                    let xhat = (T.Lanes(loadingFrom: x + i, count: k, padding: 0) - mv) * sv
                    let g = T.Lanes(loadingFrom: dy + i, count: k, padding: 0)
                        * T.Lanes(loadingFrom: weight + i, count: k, padding: 0)
                    laneG += g
                    laneGX += g * xhat
                }
                let meanG = T.Lanes(repeating: laneG.sum() / T(c))
                let meanGX = T.Lanes(repeating: laneGX.sum() / T(c))
                for (i, k) in chunks(of: T.Lanes.self, in: 0..<c) {
                    let xhat = (T.Lanes(loadingFrom: x + i, count: k, padding: 0) - mv) * sv
                    let d = T.Lanes(loadingFrom: dy + i, count: k, padding: 0)
                    let g = d * T.Lanes(loadingFrom: weight + i, count: k, padding: 0)
                    (sv * (g - meanG - xhat * meanGX)).add(to: dx + i, count: k)
                    if parameters {
                        (d * xhat).add(to: pw + i, count: k)
                        d.add(to: pb + i, count: k)
                    }
                }
            }
        }
    }
    guard let dweight, let dbias else { return }
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
