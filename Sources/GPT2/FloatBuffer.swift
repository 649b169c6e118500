import Glibc
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
    /// Bytes of the buffer's own anonymous mapping, or nil when it was allocated on the heap.
    private let mappedBytes: Int?

    /// A zeroed buffer of `count` elements. A `releasable` one lives in an anonymous mapping of
    /// its own, whose pages the system provides (as zeros) only once they are first touched, and
    /// takes back in `release(_:)`.
    public init(count: Int, releasable: Bool = false) {
        self.count = count
        guard releasable else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
            base = raw.bindMemory(to: Float.self, capacity: max(1, count))
            base.initialize(repeating: 0, count: count)
            mappedBytes = nil
            return
        }
        let bytes = max(1, count) * 4
        guard let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            fatalError("FloatBuffer: mmap of \(bytes) bytes failed (errno \(errno))")
        }
        base = raw.bindMemory(to: Float.self, capacity: max(1, count))
        mappedBytes = bytes
    }

    deinit {
        if let mappedBytes { munmap(base, mappedBytes) } else { base.deallocate() }
    }

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

    /// Sets the elements of `range` to zero and, in a `releasable` buffer, gives the whole pages
    /// inside it back to the system (they no longer count in the resident set and read as zeros
    /// until written again); the partial pages at its ends are zeroed in place. Elsewhere this is
    /// `zero(range)`.
    public func release(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "FloatBuffer.release: \(range) of \(count)")
        guard mappedBytes != nil, !range.isEmpty else { return zero(range) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE))) / MemoryLayout<Float>.size
        let first = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard first < end else { return zero(range) }
        let pages = first..<end
        zero(range.lowerBound..<pages.lowerBound)
        zero(pages.upperBound..<range.upperBound)
        guard madvise(base + pages.lowerBound, pages.count * MemoryLayout<Float>.size, MADV_DONTNEED) == 0 else {
            return zero(pages)  // cannot give them back: still zero them, as promised
        }
    }

    /// Copies all elements of `other`, which must have the same count.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: \(other.count) elements into \(count)")
        base.update(from: other.base, count: count)
    }
}
