/// Residual connection: `out = a + b`, element-wise over `count` values.
/// Its backward is the identity to both inputs, so the model accumulates `dout` into both.
@inlinable
public func residualForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, a: UnsafePointer<T>, b: UnsafePointer<T>, count: Int
) {
    parallelRanges(count, minimumPerThread: 8192) { range in
        for i in range { out[i] = a[i] + b[i] }
    }
}

/// `acc += x`, element-wise over `count` values (gradient accumulation along a residual path).
@inlinable
public func accumulate<T: KernelScalar>(_ acc: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, count: Int) {
    parallelRanges(count, minimumPerThread: 8192) { range in
        for i in range { acc[i] += x[i] }
    }
}
