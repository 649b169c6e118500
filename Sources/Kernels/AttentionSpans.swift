/// Which keys each query row attends to in a packed batch of sequences.
///
/// Rows are the concatenation of every sequence, with no padding, appended one segment at a time.
/// The queries of a segment (rows `s..<s+L`) attend to the rows of its `prefix` (a shared prompt
/// stored earlier; usually empty) and causally to the segment itself: row `s+i` sees the prefix
/// rows and rows `s...s+i`. A plain sequence is one segment with an empty prefix; a completion
/// that shares a prompt stored elsewhere is a segment whose prefix is the prompt's rows.
///
/// Attention keeps each segment's probabilities per head as a dense block `[L, Lp + L]` (prefix
/// keys first, then the segment's own keys, zero above the diagonal), at `probabilityOffset`
/// within the head's `probabilitiesPerHead` values.
public struct AttentionSpans: Equatable, Sendable {
    /// One run of query rows sharing their key layout.
    public struct Segment: Equatable, Sendable {
        /// The segment's rows (queries, and its own keys).
        public var rows: Range<Int>
        /// Rows of the shared prefix its queries also see (before `rows`), or an empty range.
        public var prefix: Range<Int>
        /// Where its probability block starts within a head's probabilities.
        public var probabilityOffset: Int
        /// Keys per query row in the dense block: prefix rows + own rows.
        public var width: Int { prefix.count + rows.count }
    }

    /// The segments in row order.
    public private(set) var segments: [Segment] = []
    /// Number of query rows.
    public private(set) var rows = 0
    /// Probability values per head: Σ over segments of L·(Lp + L).
    public private(set) var probabilitiesPerHead = 0

    /// No rows.
    public init() {}

    /// `count` independent causal sequences of `length` rows each (the rectangular, right-padded
    /// layout).
    public init(sequences count: Int, length: Int) {
        for s in 0..<count { appendSequence(rows: length, prefix: (s * length)..<(s * length)) }
    }

    /// The largest probability block, `L·(Lp + L)` (scratch size per head in the backward pass).
    public var largestBlock: Int { segments.map { $0.rows.count * $0.width }.max() ?? 0 }

    /// Appends a segment of `count` rows at the end whose queries also see the rows of `prefix`
    /// (which must come before it); returns the rows it occupies.
    @discardableResult
    public mutating func appendSequence(rows count: Int, prefix: Range<Int>) -> Range<Int> {
        precondition(prefix.lowerBound >= 0 && prefix.upperBound <= rows, "prefix rows must precede the sequence")
        let segment = Segment(rows: rows..<(rows + count), prefix: prefix.isEmpty ? rows..<rows : prefix,
                              probabilityOffset: probabilitiesPerHead)
        if count > 0 { segments.append(segment) }
        rows += count
        probabilitiesPerHead += count * segment.width
        return segment.rows
    }
}
