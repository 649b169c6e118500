/// LoRA's low-rank update of a fully connected layer (PEFT's `lora.Linear`), added to the frozen
/// layer's output: `out += scaling · (inp Aᵀ) Bᵀ`, with A and B stored as PEFT stores them
/// (PyTorch `Linear` weights, `[out_features, in_features]`).
///
/// Shapes:
///   inp [N, IN]   the layer's input (after the adapter's dropout, when it drops)
///   a   [R, IN]   lora_A.weight          b [OUT, R]   lora_B.weight
///   u   [N, R]    u = scaling · inp · aᵀ  (kept for the backward pass)
///   out [N, OUT]  out += u · bᵀ
///
/// Every product goes through `T.gemm` with transposition flags on the stored operands (no copy
/// or transpose of A or B). With `bf16` the two products take bfloat16 inputs (A and B rounded per
/// product, `inp` and `u` too) and accumulate in float32, as PyTorch's autocast runs `lora_A` and
/// `lora_B`; `u` and `out` stay float32. With `out` nil only `u` is computed (the recomputation of
/// a layer whose output the backward pass does not need).
@inlinable
public func loraForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>?, u: UnsafeMutablePointer<T>, inp: UnsafePointer<T>,
    a: UnsafePointer<T>, b: UnsafePointer<T>, scaling: T,
    rows n: Int, inChannels ic: Int, outChannels oc: Int, rank r: Int, bf16: Bool = false
) {
    let rounding = bf16 ? BF16Operands() : nil
    T.gemm(transA: false, transB: true, m: n, n: r, k: ic, alpha: 1, a: inp, lda: ic, b: a, ldb: ic,
           beta: 0, c: u, ldc: r, bf16: rounding)
    scale(u, by: scaling, count: n * r)
    guard let out else { return }
    T.gemm(transA: false, transB: true, m: n, n: oc, k: r, alpha: 1, a: u, lda: r, b: b, ldb: r,
           beta: 1, c: out, ldc: oc, bf16: rounding)
}

/// Backward of `loraForward`. The gradients of A and B are accumulated (`+=`); so is `dinp`
/// unless `overwritingInput` (then `dinp = du · a`). `dinp` is written last, after the last read
/// of `inp`, so it may be `inp`'s memory (the dropout scratch). With `bf16` every product takes
/// bfloat16 inputs, as in the forward pass.
///
/// Shapes:
///   dout [N, OUT]  inp [N, IN]  u [N, R] (from the forward pass)  a [R, IN]  b [OUT, R]
///   db   [OUT, R] += doutᵀ · u
///   du   [N, R]    = scaling · dout · b   (scratch, overwritten)
///   da   [R, IN]  += duᵀ · inp
///   dinp [N, IN]  += du · a
@inlinable
public func loraBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>?, da: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>,
    du: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, inp: UnsafePointer<T>, u: UnsafePointer<T>,
    a: UnsafePointer<T>, b: UnsafePointer<T>, scaling: T,
    rows n: Int, inChannels ic: Int, outChannels oc: Int, rank r: Int,
    overwritingInput: Bool = false, bf16: Bool = false
) {
    let rounding = bf16 ? BF16Operands() : nil
    T.gemm(transA: true, transB: false, m: oc, n: r, k: n, alpha: 1, a: dout, lda: oc, b: u, ldb: r,
           beta: 1, c: db, ldc: r, bf16: rounding)
    T.gemm(transA: false, transB: false, m: n, n: r, k: oc, alpha: 1, a: dout, lda: oc, b: b, ldb: r,
           beta: 0, c: du, ldc: r, bf16: rounding)
    scale(du, by: scaling, count: n * r)
    T.gemm(transA: true, transB: false, m: r, n: ic, k: n, alpha: 1, a: du, lda: r, b: inp, ldb: ic,
           beta: 1, c: da, ldc: ic, bf16: rounding)
    if let dinp {
        T.gemm(transA: false, transB: false, m: n, n: ic, k: r, alpha: 1, a: du, lda: r, b: a, ldb: ic,
               beta: overwritingInput ? 0 : 1, c: dinp, ldc: ic, bf16: rounding)
    }
}

/// `x *= factor` over `count` values (a `[N, R]` matrix: small, one thread).
@inlinable
func scale<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, by factor: T, count: Int) {
    for i in 0..<count { x[i] *= factor }
}
