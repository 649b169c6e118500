/// Which keys each query row attends to in a packed batch of sequences.
///
/// Rows are the concatenation of every sequence, with no padding. Query row `i` attends to the
/// keys of rows `[prefixStart[i], prefixEnd[i])` (a shared prefix, usually empty) followed by
/// rows `ownStart[i]...i` (its own sequence so far, causal). A plain sequence starting at row `s`
/// has `ownStart = s` and an empty prefix; a completion that shares a prompt stored elsewhere
/// has the prompt's rows as its prefix and starts its own span at its first row.
///
/// Shapes: ownStart, prefixStart, prefixEnd [N]; offsets [N + 1], where
/// `offsets[i] = Σ_{j < i} keyCount(j)` locates row i's probabilities in the attention buffer.
public struct AttentionSpans: Equatable, Sendable {
    /// First row of each query's own (causal) span.
    public private(set) var ownStart: [Int32] = []
    /// Start of each query's shared-prefix span.
    public private(set) var prefixStart: [Int32] = []
    /// End (exclusive) of each query's shared-prefix span; equal to `prefixStart` when empty.
    public private(set) var prefixEnd: [Int32] = []
    /// Running key counts: row i's probabilities occupy `offsets[i]..<offsets[i + 1]`.
    public private(set) var offsets: [Int] = [0]

    /// No rows.
    public init() {}

    /// `count` rows of independent causal sequences of `length` rows each (the rectangular,
    /// right-padded layout).
    public init(sequences count: Int, length: Int) {
        for s in 0..<count { appendSequence(rows: length, prefix: (s * length)..<(s * length)) }
    }

    /// Number of query rows.
    public var rows: Int { ownStart.count }

    /// Σ over rows of the keys each one sees: the attention buffer holds `heads × totalKeys`.
    public var totalKeys: Int { offsets[offsets.count - 1] }

    /// The longest key list of any row.
    public var maxKeys: Int {
        (0..<rows).reduce(0) { max($0, offsets[$1 + 1] - offsets[$1]) }
    }

    /// Appends a sequence of `rows` rows at the end whose queries also see the rows of `prefix`
    /// (which must come before it); returns the rows it occupies.
    @discardableResult
    public mutating func appendSequence(rows count: Int, prefix: Range<Int>) -> Range<Int> {
        precondition(prefix.lowerBound >= 0 && prefix.upperBound <= rows, "prefix rows must precede the sequence")
        let start = rows
        for i in start..<(start + count) {
            ownStart.append(Int32(start))
            prefixStart.append(Int32(prefix.lowerBound))
            prefixEnd.append(Int32(prefix.upperBound))
            offsets.append(offsets[offsets.count - 1] + prefix.count + (i - start + 1))
        }
        return start..<(start + count)
    }
}
