import Foundation

/// Grow-only buffers for the operands a bfloat16 product rounds on the fly, and for their float32
/// widening when OpenBLAS runs the product. One product uses them at a time (a lock).
final class BF16Scratch: @unchecked Sendable {
    static let shared = BF16Scratch()

    private let lock = NSLock()
    private var rounded: [UnsafeMutablePointer<UInt16>?] = [nil, nil]
    private var roundedCapacity = [0, 0]
    private var widened: [UnsafeMutablePointer<Float>?] = [nil, nil]
    private var widenedCapacity = [0, 0]

    /// Calls `body` with `A` and `B` as bfloat16: the given rounded copies, else `a` and `b`
    /// rounded into scratch (`aCount` / `bCount` elements from the first).
    func withOperands(a: UnsafePointer<Float>, aRounded: UnsafePointer<UInt16>?, aCount: Int,
                      b: UnsafePointer<Float>, bRounded: UnsafePointer<UInt16>?, bCount: Int,
                      _ body: (UnsafePointer<UInt16>, UnsafePointer<UInt16>) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(aRounded ?? roundedCopy(a, count: aCount, slot: 0), bRounded ?? roundedCopy(b, count: bCount, slot: 1))
    }

    /// Calls `body` with `count` values of `source` rounded into this scratch's first slot.
    func withRounded(_ source: UnsafePointer<Float>, count: Int, _ body: (UnsafePointer<UInt16>) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(roundedCopy(source, count: count, slot: 0))
    }

    /// Calls `body` with both bfloat16 operands widened to float32 into scratch. Call only inside
    /// `withOperands`'s body (the lock is held there).
    func withWidened(_ a: UnsafePointer<UInt16>, count aCount: Int, _ b: UnsafePointer<UInt16>, count bCount: Int,
                     _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> Void) {
        let a32 = buffer(&widened, &widenedCapacity, slot: 0, count: aCount)
        let b32 = buffer(&widened, &widenedCapacity, slot: 1, count: bCount)
        BFloat16.widen(a, into: a32, count: aCount)
        BFloat16.widen(b, into: b32, count: bCount)
        body(a32, b32)
    }

    private func roundedCopy(_ source: UnsafePointer<Float>, count: Int, slot: Int) -> UnsafePointer<UInt16> {
        let destination = buffer(&rounded, &roundedCapacity, slot: slot, count: count)
        BFloat16.round(source, into: destination, count: count)
        return UnsafePointer(destination)
    }

    /// Buffer `slot` of `buffers`, reallocated (64-byte aligned) when smaller than `count`.
    private func buffer<T>(_ buffers: inout [UnsafeMutablePointer<T>?], _ capacity: inout [Int], slot: Int,
                           count: Int) -> UnsafeMutablePointer<T> {
        if let existing = buffers[slot], capacity[slot] >= count { return existing }
        buffers[slot]?.deallocate()
        let grown = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: max(1, count))
        buffers[slot] = grown
        capacity[slot] = count
        return grown
    }
}

/// An operand two bfloat16 products share (a gradient in a backward pass: `dout · Wᵀ` and
/// `inpᵀ · dout`), rounded once instead of once per product.
@inlinable
public func withSharedBF16Operand<T: KernelScalar>(_ source: UnsafePointer<T>, count: Int, rounding: Bool,
                                                   _ body: (UnsafePointer<UInt16>?) -> Void) {
    guard rounding else { return body(nil) }
    precondition(T.self == Float.self, "bfloat16 products are Float only")
    roundSharedOperand(UnsafeRawPointer(source).assumingMemoryBound(to: Float.self), count: count, body)
}

/// `withSharedBF16Operand`'s rounding, into scratch of its own (the products inside `body` use
/// `BF16Scratch.shared` for their other operands).
public func roundSharedOperand(_ source: UnsafePointer<Float>, count: Int, _ body: (UnsafePointer<UInt16>) -> Void) {
    sharedOperandScratch.withRounded(source, count: count, body)
}

private let sharedOperandScratch = BF16Scratch()
