/// Fully connected layer in Hugging Face's `Conv1D` layout (weight stored `[in, out]`).
///
/// Shapes:
///   inp    [N, IC]     weight [IC, OC]     bias [OC] (optional)
///   out    [N, OC]     out = inp · weight + bias
///
/// Every product goes through BLAS gemm with contiguous, row-major operands.
@inlinable
public func matmulForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>,
    weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    rows n: Int, inChannels ic: Int, outChannels oc: Int
) {
    if let bias {
        parallelRanges(n, minimumPerThread: 64) { range in
            for row in range {
                (out + row * oc).update(from: bias, count: oc)
            }
        }
    }
    T.gemm(transA: false, transB: false, m: n, n: oc, k: ic,
           alpha: 1, a: inp, lda: ic, b: weight, ldb: oc,
           beta: bias == nil ? 0 : 1, c: out, ldc: oc)
}

/// Backward of `matmulForward`. The parameter gradients are accumulated (`+=`); so is `dinp`
/// unless `overwritingInput` (then `dinp = dout · weightᵀ`, sparing its caller a zeroing pass).
///
/// Shapes:
///   dout [N, OC]  inp [N, IC]  weight [IC, OC]
///   dinp [N, IC]    += dout · weightᵀ
///   dweight [IC, OC] += inpᵀ · dout
///   dbias [OC]       += Σ_n dout[n, :]
@inlinable
public func matmulBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>?, dweight: UnsafeMutablePointer<T>, dbias: UnsafeMutablePointer<T>?,
    dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
    rows n: Int, inChannels ic: Int, outChannels oc: Int, overwritingInput: Bool = false
) {
    if let dinp {
        T.gemm(transA: false, transB: true, m: n, n: ic, k: oc,
               alpha: 1, a: dout, lda: oc, b: weight, ldb: oc, beta: overwritingInput ? 0 : 1, c: dinp, ldc: ic)
    }
    T.gemm(transA: true, transB: false, m: ic, n: oc, k: n,
           alpha: 1, a: inp, lda: ic, b: dout, ldb: oc, beta: 1, c: dweight, ldc: oc)
    if let dbias {
        columnSumsAccumulate(into: dbias, matrix: dout, rows: n, columns: oc)
    }
}

/// `sums[c] += Σ_r matrix[r, c]` for a row-major `[rows, columns]` matrix.
///
/// Columns are split across threads; each thread walks its columns row by row, so the
/// summation order (row 0, 1, ...) is the same for any thread count.
@inlinable
public func columnSumsAccumulate<T: KernelScalar>(
    into sums: UnsafeMutablePointer<T>, matrix: UnsafePointer<T>, rows: Int, columns: Int
) {
    parallelRanges(columns, minimumPerThread: 256) { cols in
        for r in 0..<rows {
            let row = matrix + r * columns
            for c in cols { sums[c] += row[c] }
        }
    }
}
