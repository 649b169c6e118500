/// GELU with the tanh approximation (`gelu_new` in Hugging Face GPT-2).
///
/// Shapes: inp, out [N] (any layout, element-wise).
///   out = 0.5 * x * (1 + tanh(sqrt(2/π) * (x + 0.044715 x³)))
@inlinable
public func geluForward<T: KernelScalar>(out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>, count: Int) {
    let k = T.sqrt(2 / T.pi)
    parallelRanges(count, minimumPerThread: 4096) { range in
        for i in range {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + T.tanh(k * (x + 0.044715 * x * x * x)))
        }
    }
}

/// Backward of `geluForward`: `dinp += dout * gelu'(inp)` (accumulated).
@inlinable
public func geluBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, inp: UnsafePointer<T>, count: Int
) {
    let k = T.sqrt(2 / T.pi)
    parallelRanges(count, minimumPerThread: 4096) { range in
        for i in range {
            let x = inp[i]
            let u = k * (x + 0.044715 * x * x * x)
            let t = T.tanh(u)
            let sech2 = 1 - t * t
            let grad = 0.5 * (1 + t) + 0.5 * x * sech2 * k * (1 + 3 * 0.044715 * x * x)
            dinp[i] += grad * dout[i]
        }
    }
}
