/// A tokenized, truncated preference pair, ready for batching.
public struct PreferencePair: Equatable, Sendable {
    /// Position of the pair in its data set (after dropped rows): the global pair index that
    /// shuffling, sharding and resuming refer to.
    public var index: Int
    /// Line of the row in its file.
    public var line: Int
    /// Prompt + chosen completion.
    public var chosen: TokenSequence
    /// Prompt + rejected completion.
    public var rejected: TokenSequence

    public init(index: Int, line: Int, chosen: TokenSequence, rejected: TokenSequence) {
        self.index = index
        self.line = line
        self.chosen = chosen
        self.rejected = rejected
    }
}
