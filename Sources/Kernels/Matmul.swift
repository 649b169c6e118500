/// Fully connected layer in Hugging Face's `Conv1D` layout (weight stored `[in, out]`).
///
/// Shapes:
///   inp    [N, IC]     weight [IC, OC]     bias [OC] (optional)
///   out    [N, OC]     out = inp · weight + bias
///
/// Every product goes through `T.gemm` with contiguous, row-major operands. With `weight16`, the
/// weight's bfloat16 copy, the product takes bfloat16 inputs (`inp` rounded per call) and
/// accumulates in float32 (PyTorch's autocast).
@inlinable
public func matmulForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>,
    weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    rows n: Int, inChannels ic: Int, outChannels oc: Int, weight16: UnsafePointer<UInt16>? = nil
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
           beta: bias == nil ? 0 : 1, c: out, ldc: oc, bf16: weight16.map { BF16Operands(b: $0) })
}

/// Backward of `matmulForward`. The parameter gradients are accumulated (`+=`); so is `dinp`
/// unless `overwritingInput` (then `dinp = dout · weightᵀ`, sparing its caller a zeroing pass).
/// A nil `dinp`, `dweight` or `dbias` skips that gradient's computation (a frozen weight: LoRA).
/// With `weight16` (the weight's bfloat16 copy) both products take bfloat16 inputs, as autocast's
/// backward does (`dout` rounded once for both); the gradients stay float32.
///
/// Shapes:
///   dout [N, OC]  inp [N, IC]  weight [IC, OC]
///   dinp [N, IC]    += dout · weightᵀ
///   dweight [IC, OC] += inpᵀ · dout
///   dbias [OC]       += Σ_n dout[n, :]
@inlinable
public func matmulBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>?, dweight: UnsafeMutablePointer<T>?, dbias: UnsafeMutablePointer<T>?,
    dout: UnsafePointer<T>, inp: UnsafePointer<T>, weight: UnsafePointer<T>,
    rows n: Int, inChannels ic: Int, outChannels oc: Int, overwritingInput: Bool = false,
    weight16: UnsafePointer<UInt16>? = nil
) {
    withSharedBF16Operand(dout, count: n * oc, rounding: weight16 != nil) { dout16 in
        if let dinp {
            T.gemm(transA: false, transB: true, m: n, n: ic, k: oc,
                   alpha: 1, a: dout, lda: oc, b: weight, ldb: oc, beta: overwritingInput ? 0 : 1, c: dinp, ldc: ic,
                   bf16: weight16.map { BF16Operands(a: dout16, b: $0) })
        }
        if let dweight {
            T.gemm(transA: true, transB: false, m: ic, n: oc, k: n,
                   alpha: 1, a: inp, lda: ic, b: dout, ldb: oc, beta: 1, c: dweight, ldc: oc,
                   bf16: weight16 == nil ? nil : BF16Operands(b: dout16))
        }
    }
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
