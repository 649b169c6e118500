/// Token plus position embedding.
///
/// Shapes:
///   tokens [N], positions [N] (Int32 ids)   wte [V, C]   wpe [P, C]
///   out [N, C]    out[n] = wte[tokens[n]] + wpe[positions[n]]
@inlinable
public func embeddingForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>,
    wte: UnsafePointer<T>, wpe: UnsafePointer<T>, rows n: Int, channels c: Int
) {
    parallelRanges(n, minimumPerThread: 16) { range in
        for row in range {
            let te = wte + Int(tokens[row]) * c
            let pe = wpe + Int(positions[row]) * c
            let y = out + row * c
            for i in 0..<c { y[i] = te[i] + pe[i] }
        }
    }
}

/// Backward of `embeddingForward`: `dwte[tokens[n]] += dout[n]`, `dwpe[positions[n]] += dout[n]`.
/// Runs serially in row order (rows may share a token or position), so it is deterministic.
@inlinable
public func embeddingBackward<T: KernelScalar>(
    dwte: UnsafeMutablePointer<T>, dwpe: UnsafeMutablePointer<T>, dout: UnsafePointer<T>,
    tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, rows n: Int, channels c: Int
) {
    for row in 0..<n {
        let g = dout + row * c
        let te = dwte + Int(tokens[row]) * c
        let pe = dwpe + Int(positions[row]) * c
        for i in 0..<c {
            te[i] += g[i]
            pe[i] += g[i]
        }
    }
}
