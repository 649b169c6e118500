import Kernels

/// A fixed-size, 64-byte aligned, zero-initialised buffer of `Float`, owned by this object.
///
/// Parameters, gradients, optimiser moments and activations all live in these, so that one
/// pointer and one count describe each (one all-reduce, one optimiser loop, one file write).
public final class FloatBuffer {
    /// Number of elements.
    public let count: Int
    /// First element; valid for the lifetime of the buffer.
    public let base: UnsafeMutablePointer<Float>

    /// A zeroed buffer of `count` elements.
    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(1, count))
        base.initialize(repeating: 0, count: count)
    }

    deinit { base.deallocate() }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// A copy of the elements. Prefer this to `Array(x.buffer)` on a temporary: the copy is made
    /// while the buffer is certainly alive.
    public var array: [Float] { Array(buffer) }

    /// Sets the elements of `range` (default: all) to zero, split over the kernel threads (one
    /// core alone does not reach the memory bandwidth a 124M-parameter gradient needs).
    public func zero(_ range: Range<Int>? = nil) {
        let range = range ?? 0..<count
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "FloatBuffer.zero: \(range) of \(count)")
        let start = base + range.lowerBound
        parallelRanges(range.count, minimumPerThread: 1 << 20) { part in
            (start + part.lowerBound).update(repeating: 0, count: part.count)
        }
    }

    /// Copies all elements of `other`, which must have the same count.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: \(other.count) elements into \(count)")
        base.update(from: other.base, count: count)
    }
}
