/// How a row-major `C[m, n] = op(A)[m, k] · op(B)[k, n]` is shared by the kernel threads, each
/// running one single-threaded BLAS call on a block of C.
///
/// Every thread packs the whole of the operand it does not split. Splitting C's rows means each
/// thread packs all of B; splitting C's columns, all of A. The larger of the two is split: the
/// weights (B, `[in, out]`) in a forward matmul over a few hundred token rows, the vocabulary's
/// rows in the LM head's weight gradient. `body(m, n, a, b, c)` receives one block's sizes and
/// operand pointers (the leading dimensions are unchanged).
@inlinable
func splitGemm<T>(
    transA: Bool, transB: Bool, m: Int, n: Int, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    c: UnsafeMutablePointer<T>, ldc: Int,
    _ body: (_ m: Int, _ n: Int, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) -> Void
) {
    if n > m {
        parallelRanges(n, minimumPerThread: 32) { cols in
            let bCols = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            body(m, cols.count, a, bCols, c + cols.lowerBound)
        }
    } else {
        parallelRanges(m, minimumPerThread: 32) { rows in
            let aRows = transA ? a + rows.lowerBound : a + rows.lowerBound * lda
            body(rows.count, n, aRows, b, c + rows.lowerBound * ldc)
        }
    }
}
