/// Byte-pair merging of one pre-tokenised piece: starts from one token per byte and repeatedly
/// merges the adjacent pair with the lowest merge rank (leftmost first), as GPT-2 and tiktoken do.
///
/// The pairs wait in a `RankHeap` keyed by (rank, position), so one merge costs O(log n) and a piece
/// of n bytes O(n log n): a run of one letter without spaces is a single piece, however long. Parts
/// are a doubly linked list over the index of their first byte; a heap entry whose pair has changed
/// since it was pushed is dropped when it comes up. Positions are packed in 32 bits, which bounds
/// a piece to 4 GiB.
struct BytePairMerger: Sendable {
    /// The token id of each single byte.
    let byteTokenIDs: [Int32]
    /// For each mergeable pair `(left << 32 | right)`: `(rank << 32 | merged token id)`.
    let merges: [UInt64: UInt64]

    private static let noMerge = UInt64.max

    @inline(__always)
    private func merge(_ left: Int32, _ right: Int32) -> UInt64 {
        merges[UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))] ?? Self.noMerge
    }

    /// Appends the token ids of `piece` to `output`. Adds the work done to `steps`: one per byte,
    /// one per heap entry taken out and one per comparison inside the heap.
    func encode(_ piece: UnsafeBufferPointer<UInt8>, into output: inout [Int32], steps: inout Int) {
        let count = piece.count
        steps += count
        if count == 1 {
            output.append(byteTokenIDs[Int(piece[0])])
            return
        }
        // Part `i` starts at byte `i` until it is merged into its left neighbour. `pairs[i]` is the
        // merge of part `i` with the part after it (`noMerge` if none, or once part `i` is gone).
        var tokens = piece.map { byteTokenIDs[Int($0)] }
        var next = Array(1...count)
        var previous = Array(-1..<(count - 1))
        var pairs = [UInt64](repeating: Self.noMerge, count: count)
        var waiting = [UInt64]()
        waiting.reserveCapacity(count - 1)
        for index in 0..<(count - 1) {
            pairs[index] = merge(tokens[index], tokens[index + 1])
            if pairs[index] != Self.noMerge { waiting.append(pairs[index] & ~0xFFFF_FFFF | UInt64(index)) }
        }
        var heap = RankHeap(waiting, steps: &steps)
        /// Recomputes part `index`'s pair with its right neighbour and queues it.
        func update(_ index: Int) {
            pairs[index] = next[index] < count ? merge(tokens[index], tokens[next[index]]) : Self.noMerge
            if pairs[index] != Self.noMerge { heap.push(pairs[index] & ~0xFFFF_FFFF | UInt64(index), steps: &steps) }
        }
        while let entry = heap.popMin(steps: &steps) {
            steps += 1
            let left = Int(entry & 0xFFFF_FFFF)
            let pair = pairs[left]
            guard pair != Self.noMerge, pair >> 32 == entry >> 32 else { continue }
            let right = next[left]
            tokens[left] = Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF)
            pairs[right] = Self.noMerge
            next[left] = next[right]
            if next[left] < count { previous[next[left]] = left }
            update(left)
            if previous[left] >= 0 { update(previous[left]) }
        }
        var index = 0
        while index < count {
            output.append(tokens[index])
            index = next[index]
        }
    }
}
