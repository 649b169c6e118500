/// Walking a buffer in lanes: the memory-bound kernels (GELU, layernorm, the log-prob head's
/// softmax) are written once over `T.Lanes` (16 Float lanes, or 4 Double lanes for the tests) and
/// read and write it through these helpers.
///
/// Shapes: a range of a contiguous buffer, walked in chunks of `L.scalarCount` values; the last
/// chunk may be shorter, and its missing lanes are filled with a padding value the caller picks
/// so that they do not change the result (0 for a sum, −∞ for a max or an exponential).
/// Every lane is computed independently of its neighbours, so where a chunk starts (which depends
/// on how rows are split across threads) never changes a value.
@inlinable @inline(__always)
public func chunks<L: SIMD>(of _: L.Type, in range: Range<Int>) -> Chunks<L> {
    Chunks(position: range.lowerBound, end: range.upperBound)
}

/// The (start, count) pairs of `chunks(of:in:)`. A sequence rather than a function taking a
/// closure: the optimiser left such closures outlined, called once per chunk with their
/// accumulators in memory, which made layernorm's backward slower than scalar code.
public struct Chunks<L: SIMD>: Sequence, IteratorProtocol {
    @usableFromInline var position: Int
    @usableFromInline let end: Int

    @inlinable @inline(__always)
    init(position: Int, end: Int) {
        self.position = position
        self.end = end
    }

    @inlinable @inline(__always)
    public mutating func next() -> (start: Int, count: Int)? {
        guard position < end else { return nil }
        let start = position
        position += L.scalarCount
        return (start, Swift.min(L.scalarCount, end - start))
    }
}

extension SIMD {
    /// Loads `count` values from `p` (any alignment); lanes from `count` on hold `padding`.
    @inlinable @inline(__always)
    public init(loadingFrom p: UnsafePointer<Scalar>, count: Int, padding: Scalar) {
        if count == Self.scalarCount {
            self = UnsafeRawPointer(p).loadUnaligned(as: Self.self)
        } else {
            self.init(repeating: padding)
            for i in 0..<count { self[i] = p[i] }
        }
    }

    /// Stores the first `count` lanes to `p` (any alignment).
    @inlinable @inline(__always)
    public func store(to p: UnsafeMutablePointer<Scalar>, count: Int) {
        if count == Self.scalarCount {
            UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self)
        } else {
            for i in 0..<count { p[i] = self[i] }
        }
    }
}

extension SIMD where Scalar: FloatingPoint {
    /// `p[0..<count] += ` the first `count` lanes.
    @inlinable @inline(__always)
    public func add(to p: UnsafeMutablePointer<Scalar>, count: Int) {
        (Self(loadingFrom: p, count: count, padding: 0) + self).store(to: p, count: count)
    }
}
