extension PreferencePair {
    /// `count` pairs of random token ids in `0..<vocabSize`, reproducible from `seed`: each pair a
    /// prompt of `promptTokens` ids shared by a chosen and a rejected completion of
    /// `completionTokens` ids each, indexed 0..<count. For benchmarks of a step's cost, which
    /// depends on the shapes and not on the text.
    public static func synthetic(count: Int, promptTokens: Int, completionTokens: Int,
                                 vocabSize: Int, seed: UInt64) -> [PreferencePair] {
        var random = SplitMix64(seed: seed)
        func ids(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(random.next() % UInt64(vocabSize)) } }
        return (0..<count).map { index in
            let prompt = ids(promptTokens)
            return PreferencePair(
                index: index, line: index + 1,
                chosen: TokenSequence(ids: prompt + ids(completionTokens), promptLength: promptTokens),
                rejected: TokenSequence(ids: prompt + ids(completionTokens), promptLength: promptTokens))
        }
    }
}
