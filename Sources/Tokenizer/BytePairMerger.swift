/// Byte-pair merging of one pre-tokenised piece: starts from one token per byte and repeatedly
/// merges the adjacent pair with the lowest merge rank (leftmost first), as GPT-2 does.
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

    /// Appends the token ids of `piece` to `output`.
    func encode(_ piece: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        if piece.count == 1 {
            output.append(byteTokenIDs[Int(piece[0])])
            return
        }
        var parts = piece.map { byteTokenIDs[Int($0)] }
        var pairs = (0..<parts.count - 1).map { merge(parts[$0], parts[$0 + 1]) }
        while true {
            var best = 0
            for index in pairs.indices where pairs[index] < pairs[best] { best = index }
            if pairs[best] == Self.noMerge { break }
            parts[best] = Int32(truncatingIfNeeded: pairs[best] & 0xFFFF_FFFF)
            parts.remove(at: best + 1)
            pairs.remove(at: best)
            if pairs.isEmpty { break }
            if best > 0 { pairs[best - 1] = merge(parts[best - 1], parts[best]) }
            if best < pairs.count { pairs[best] = merge(parts[best], parts[best + 1]) }
        }
        output.append(contentsOf: parts)
    }
}
