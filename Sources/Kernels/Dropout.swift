/// Inverted dropout (`torch.nn.Dropout` in training mode) whose mask is a pure function of
/// (`seed`, `stream`, element index): element i is kept with probability 1 − p (`dropoutKeeps`)
/// and then scaled by 1 / (1 − p), else zeroed. No state, so a recomputation (gradient
/// checkpointing) or the backward pass regenerates exactly the forward pass's mask, for any
/// thread count.
///
/// Shapes: inp, out [count] (any matrix, flattened row-major); out may be inp.
@inlinable
public func dropoutForward<T: KernelScalar>(
    out: UnsafeMutablePointer<T>, inp: UnsafePointer<T>, count: Int,
    probability p: Double, seed: UInt64, stream: UInt64
) {
    let key = dropoutKey(seed: seed, stream: stream), threshold = dropoutThreshold(p), keptScale = 1 / T(1 - p)
    parallelRanges(count, minimumPerThread: 4096) { range in
        for i in range {
            out[i] = dropoutKeeps(key: key, index: i, threshold: threshold) ? inp[i] * keptScale : 0
        }
    }
}

/// Backward of `dropoutForward` with the same `seed` and `stream`: `dinp += mask · dout / (1 − p)`.
///
/// Shapes: dout, dinp [count].
@inlinable
public func dropoutBackward<T: KernelScalar>(
    dinp: UnsafeMutablePointer<T>, dout: UnsafePointer<T>, count: Int,
    probability p: Double, seed: UInt64, stream: UInt64
) {
    let key = dropoutKey(seed: seed, stream: stream), threshold = dropoutThreshold(p), keptScale = 1 / T(1 - p)
    parallelRanges(count, minimumPerThread: 4096) { range in
        for i in range where dropoutKeeps(key: key, index: i, threshold: threshold) {
            dinp[i] += dout[i] * keptScale
        }
    }
}

/// `dropoutKeeps`'s threshold for drop probability `p` in [0, 1): p · 2⁵³.
@inlinable
func dropoutThreshold(_ p: Double) -> UInt64 { UInt64(p * 0x1p53) }

/// The mask's key of one (seed, stream) pair: SplitMix64's finaliser applied twice.
@inlinable
func dropoutKey(seed: UInt64, stream: UInt64) -> UInt64 {
    splitMix64(seed &+ splitMix64(stream &+ 0x9E37_79B9_7F4A_7C15))
}

/// Whether element `index` survives: a 53-bit uniform number, SplitMix64's finaliser over the key
/// and the index, is at least `threshold` (probability 1 − p).
@inlinable
func dropoutKeeps(key: UInt64, index: Int, threshold: UInt64) -> Bool {
    splitMix64(key &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15) >> 11 >= threshold
}

/// SplitMix64's output function: a bijective mix of 64 bits (also `SeededNormal`'s generator).
@inlinable
public func splitMix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
