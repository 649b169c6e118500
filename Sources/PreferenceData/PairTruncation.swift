extension TokenizedPair {
    /// The chosen and rejected sequences cut to `maxLength` as `mode` says (nil: no limit), or nil
    /// when the pair would keep no completion token and is dropped: under `keep_start` when the
    /// prompt alone fills `maxLength`, under `proportional` when the responses' share rounds down
    /// to 0. Under `proportional` the prompt and the longer response share `maxLength` (LLaMA-Factory
    /// cuts both responses to the longer one's share), so the two sequences keep the same prompt.
    public func sequences(maxLength: Int?, mode: TruncationMode) -> (chosen: TokenSequence, rejected: TokenSequence)? {
        guard let maxLength, mode == .proportional else {
            if let maxLength, mode == .keepStart, promptIDs.count >= maxLength { return nil }
            return (TokenSequence(prompt: promptIDs, completion: chosenIDs, maxLength: maxLength, mode: mode),
                    TokenSequence(prompt: promptIDs, completion: rejectedIDs, maxLength: maxLength, mode: mode))
        }
        let kept = ProportionalTruncation.lengths(
            prompt: promptIDs.count, response: max(chosenIDs.count, rejectedIDs.count), maxLength: maxLength)
        guard kept.response > 0 else { return nil }
        let prompt = promptIDs[..<kept.prompt]
        return (TokenSequence(ids: Array(prompt + chosenIDs.prefix(kept.response)), promptLength: kept.prompt),
                TokenSequence(ids: Array(prompt + rejectedIDs.prefix(kept.response)), promptLength: kept.prompt))
    }
}
