/// A binary min-heap of packed `(rank << 32 | position)` entries: the pairs waiting to be merged,
/// lowest rank first and, among equal ranks, leftmost first. It lives in memory its caller lends.
///
/// Every operation adds the comparisons it makes to a `steps` counter, so that tests can check the
/// merge loop's growth by counting instead of timing.
struct RankHeap {
    private let storage: UnsafeMutableBufferPointer<UInt64>
    private var count: Int

    /// A heap of the first `count` entries of `storage`, which must have room for every later push
    /// (Floyd's bottom-up construction: fewer than 2 · `count` comparisons).
    init(_ storage: UnsafeMutableBufferPointer<UInt64>, count: Int, steps: inout Int) {
        self.storage = storage
        self.count = count
        var index = count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index, steps: &steps)
        }
    }

    /// Adds `entry`.
    mutating func push(_ entry: UInt64, steps: inout Int) {
        precondition(count < storage.count, "RankHeap: no room left in the storage lent to it")
        storage[count] = entry
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) / 2
            steps += 1
            if storage[parent] <= storage[child] { break }
            storage.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns the smallest entry, or nil when the heap is empty.
    mutating func popMin(steps: inout Int) -> UInt64? {
        guard count > 0 else { return nil }
        let smallest = storage[0]
        count -= 1
        storage[0] = storage[count]
        siftDown(from: 0, steps: &steps)
        return smallest
    }

    private func siftDown(from start: Int, steps: inout Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= count { return }
            var child = left
            if left + 1 < count {
                steps += 1
                if storage[left + 1] < storage[left] { child = left + 1 }
            }
            steps += 1
            if storage[parent] <= storage[child] { return }
            storage.swapAt(parent, child)
            parent = child
        }
    }
}
