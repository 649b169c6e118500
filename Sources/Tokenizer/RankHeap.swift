/// A binary min-heap of packed `(rank << 32 | position)` entries: the pairs waiting to be merged,
/// lowest rank first and, among equal ranks, leftmost first.
///
/// Every operation adds the comparisons it makes to a `steps` counter, so that tests can check the
/// merge loop's growth by counting instead of timing.
struct RankHeap {
    private var entries: [UInt64]

    /// A heap of `entries` (Floyd's bottom-up construction: fewer than 2n comparisons).
    init(_ entries: [UInt64], steps: inout Int) {
        self.entries = entries
        var index = entries.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index, steps: &steps)
        }
    }

    /// Adds `entry`.
    mutating func push(_ entry: UInt64, steps: inout Int) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            steps += 1
            if entries[parent] <= entries[child] { break }
            entries.swapAt(parent, child)
            child = parent
        }
    }

    /// Removes and returns the smallest entry, or nil when the heap is empty.
    mutating func popMin(steps: inout Int) -> UInt64? {
        guard let last = entries.popLast() else { return nil }
        guard !entries.isEmpty else { return last }
        let smallest = entries[0]
        entries[0] = last
        siftDown(from: 0, steps: &steps)
        return smallest
    }

    private mutating func siftDown(from start: Int, steps: inout Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            if left >= entries.count { return }
            var child = left
            if left + 1 < entries.count {
                steps += 1
                if entries[left + 1] < entries[left] { child = left + 1 }
            }
            steps += 1
            if entries[parent] <= entries[child] { return }
            entries.swapAt(parent, child)
            parent = child
        }
    }
}
