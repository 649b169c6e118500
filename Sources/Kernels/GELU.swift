/// GELU with the tanh approximation (`gelu_new` in Hugging Face GPT-2).
///
/// Shapes: inp, out [N] (any layout, element-wise; `out` may be `inp`).
///   out = 0.5 * x * (1 + tanh(sqrt(2/π) * (x + 0.044715 x³)))
/// Runs `T.Lanes` values at a time (16 Floats with `vectorTanh`) on the kernel threads; every value
/// is computed on its own, so the result does not depend on the thread count.
@inlinable
public func geluForward<T: KernelScalar>(out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>, count: Int) {
    parallelRanges(count, minimumPerThread: 4096) { range in
        for (i, n) in chunks(of: T.Lanes.self, in: range) {
            let x = T.Lanes(loadingFrom: inp + i, count: n, padding: 0)
            let t = geluTanh(T.self, x)
            (0.5 * x * (1 + t)).store(to: out + i, count: n)
        }
    }
}

/// Backward of `geluForward`: `dinp = dout * gelu'(inp)` (written, not accumulated: its one
/// caller has no other contribution to `dinp`, so no buffer needs zeroing first).
///
/// Shapes: dinp, dout, inp [N] (element-wise).
///   gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t²) √(2/π) (1 + 3·0.044715 x²),  t = tanh(√(2/π)(x + 0.044715 x³))
@inlinable
public func geluBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, inp: UnsafePointer<T>, count: Int
) {
    let k = T.sqrt(2 / T.pi)
    parallelRanges(count, minimumPerThread: 4096) { range in
        for (i, n) in chunks(of: T.Lanes.self, in: range) {
            let x = T.Lanes(loadingFrom: inp + i, count: n, padding: 0)
            let t = geluTanh(T.self, x)
            let sech2 = 1 - t * t
            let du = k * (1 + (3 * 0.044715) * (x * x))
            let grad = 0.5 * (1 + t) + 0.5 * x * sech2 * du
            let dy = T.Lanes(loadingFrom: dout + i, count: n, padding: 0)
            (grad * dy).store(to: dinp + i, count: n)
        }
    }
}

/// tanh(√(2/π)·(x + 0.044715·x³)) in every lane: the part of GELU its forward and backward share.
@inlinable @inline(__always)
func geluTanh<T: KernelScalar>(_: T.Type, _ x: T.Lanes) -> T.Lanes {
    let k = T.sqrt(2 / T.pi)
    return T.tanh(k * (x + 0.044715 * x * x * x))
}
