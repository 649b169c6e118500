/// One row through a fully connected layer: `matmulForward` with N = 1, by BLAS gemv. For a
/// single row gemm packs the whole weight matrix on every call; gemv reads it once, which is what
/// bounds a generation step's speed.
///
/// Shapes:
///   inp [IC]    weight [IC, OC]  (Hugging Face `Conv1D` layout)    bias [OC] (optional)
///   out [OC]    out = inp · weight + bias
@inlinable
public func matvecForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>,
    weight: UnsafePointer<T>, bias: UnsafePointer<T>?,
    inChannels ic: Int, outChannels oc: Int
) {
    if let bias { out.update(from: bias, count: oc) }
    T.gemv(trans: true, m: ic, n: oc, alpha: 1, a: weight, lda: oc, x: inp, beta: bias == nil ? 0 : 1, y: out)
}
