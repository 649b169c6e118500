/// Byte-pair merging of one pre-tokenised piece: starts from one token per byte and repeatedly
/// merges the adjacent pair with the lowest merge rank (leftmost first), as GPT-2 and tiktoken do.
///
/// The pairs wait in a `RankHeap` keyed by (rank, position), so one merge costs O(log n) and a piece
/// of n bytes O(n log n): a run of one letter without spaces is a single piece, however long. Parts
/// are a doubly linked list over the index of their first byte; a heap entry whose pair has changed
/// since it was pushed is dropped when it comes up.
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
        precondition(count < Int(Int32.max), "BPE: a piece of \(count) bytes is longer than the 2 GiB the merge loop handles")
        steps += count
        if count == 1 {
            output.append(byteTokenIDs[Int(piece[0])])
            return
        }
        // Scratch space, on the stack for short pieces: per part its token, the next and previous
        // parts and its pair; the heap gets at most count - 1 first entries and 2 per merge after.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * count) { links in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4 * count) { entries in
                merge(piece, tokens: .init(rebasing: links[0..<count]), next: .init(rebasing: links[count..<2 * count]),
                      previous: .init(rebasing: links[2 * count..<3 * count]), pairs: .init(rebasing: entries[0..<count]),
                      heap: .init(rebasing: entries[count..<4 * count]), into: &output, steps: &steps)
            }
        }
    }

    /// The merge loop. Part `i` starts at byte `i` until it is merged into its left neighbour;
    /// `pairs[i]` is the merge of part `i` with the part after it (`noMerge` if there is none, or
    /// once part `i` is gone).
    private func merge(
        _ piece: UnsafeBufferPointer<UInt8>, tokens: UnsafeMutableBufferPointer<Int32>,
        next: UnsafeMutableBufferPointer<Int32>, previous: UnsafeMutableBufferPointer<Int32>,
        pairs: UnsafeMutableBufferPointer<UInt64>, heap storage: UnsafeMutableBufferPointer<UInt64>,
        into output: inout [Int32], steps: inout Int
    ) {
        let count = piece.count
        for index in 0..<count {
            tokens[index] = byteTokenIDs[Int(piece[index])]
            next[index] = Int32(index + 1)
            previous[index] = Int32(index - 1)
        }
        var waiting = 0
        pairs[count - 1] = Self.noMerge
        for index in 0..<(count - 1) {
            pairs[index] = merge(tokens[index], tokens[index + 1])
            if pairs[index] != Self.noMerge {
                storage[waiting] = pairs[index] & ~0xFFFF_FFFF | UInt64(index)
                waiting += 1
            }
        }
        var heap = RankHeap(storage, count: waiting, steps: &steps)
        /// Recomputes part `index`'s pair with its right neighbour and queues it.
        func update(_ index: Int) {
            let right = Int(next[index])
            pairs[index] = right < count ? merge(tokens[index], tokens[right]) : Self.noMerge
            if pairs[index] != Self.noMerge { heap.push(pairs[index] & ~0xFFFF_FFFF | UInt64(index), steps: &steps) }
        }
        while let entry = heap.popMin(steps: &steps) {
            steps += 1
            let left = Int(entry & 0xFFFF_FFFF)
            let pair = pairs[left]
            // Stale if the part is gone or pairs differently now. A rank names one merge line, that
            // is one (left, right) pair of tokens, so an entry with the current rank is current.
            guard pair != Self.noMerge, pair >> 32 == entry >> 32 else { continue }
            let right = Int(next[left])
            tokens[left] = Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF)
            pairs[right] = Self.noMerge
            next[left] = next[right]
            if Int(next[left]) < count { previous[Int(next[left])] = Int32(left) }
            update(left)
            if previous[left] >= 0 { update(Int(previous[left])) }
        }
        var index = 0
        while index < count {
            output.append(tokens[index])
            index = Int(next[index])
        }
    }
}
