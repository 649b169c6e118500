/// Remembers the token ids of short pieces, so a word seen before costs one hash lookup.
///
/// Keys pack pieces of up to 16 bytes into two integers; ids live in one flat array. The cache
/// empties itself when it holds `capacity` pieces, which bounds its memory.
struct PieceCache {
    private struct Key: Hashable {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var count: Int = 0
    }

    /// Longest piece, in bytes, that the cache holds.
    static let maximumPieceLength = 16
    private let capacity: Int
    private var spans: [Key: (start: Int32, count: Int32)] = [:]
    private var ids: [Int32] = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    private static func key(_ piece: UnsafeBufferPointer<UInt8>) -> Key {
        var key = Key(count: piece.count)
        for (index, byte) in piece.enumerated() {
            if index < 8 {
                key.low |= UInt64(byte) << (8 * UInt64(index))
            } else {
                key.high |= UInt64(byte) << (8 * UInt64(index - 8))
            }
        }
        return key
    }

    /// Appends the ids of `piece` to `output`, computing them with `merger` on a miss (which adds
    /// its work to `steps`).
    mutating func encode(
        _ piece: UnsafeBufferPointer<UInt8>, into output: inout [Int32],
        with merger: BytePairMerger, steps: inout Int
    ) {
        guard piece.count <= Self.maximumPieceLength else {
            merger.encode(piece, into: &output, steps: &steps)
            return
        }
        let key = Self.key(piece)
        if let span = spans[key] {
            output.append(contentsOf: ids[Int(span.start)..<Int(span.start + span.count)])
            return
        }
        let first = output.count
        merger.encode(piece, into: &output, steps: &steps)
        if spans.count >= capacity {
            spans.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
        }
        spans[key] = (Int32(ids.count), Int32(output.count - first))
        ids.append(contentsOf: output[first...])
    }
}
