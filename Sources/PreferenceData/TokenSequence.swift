/// One model input row: prompt tokens then completion tokens, after truncation.
public struct TokenSequence: Equatable, Sendable {
    /// The token ids, at most `maxLength` of them.
    public var ids: [Int32]
    /// How many leading ids are prompt; the rest are completion and count in log-probs.
    public var promptLength: Int

    public init(ids: [Int32], promptLength: Int) {
        self.ids = ids
        self.promptLength = promptLength
    }

    /// `prompt + completion` cut to `maxLength` from the end `mode` keeps, as TRL's
    /// `DataCollatorForPreference` cuts each sequence; `proportional` shares `maxLength` as if
    /// `completion` were the longer response of its pair (`ProportionalTruncation`).
    public init(prompt: [Int32], completion: [Int32], maxLength: Int?, mode: TruncationMode) {
        let ids = prompt + completion
        guard let maxLength, ids.count > maxLength else {
            self.init(ids: ids, promptLength: prompt.count)
            return
        }
        switch mode {
        case .keepStart:
            self.init(ids: Array(ids[..<maxLength]), promptLength: min(prompt.count, maxLength))
        case .keepEnd:
            let cut = ids.count - maxLength
            self.init(ids: Array(ids[cut...]), promptLength: max(prompt.count - cut, 0))
        case .proportional:
            let kept = ProportionalTruncation.lengths(prompt: prompt.count, response: completion.count, maxLength: maxLength)
            self.init(ids: Array(prompt[..<kept.prompt] + completion[..<kept.response]), promptLength: kept.prompt)
        }
    }

    /// Number of completion tokens.
    public var completionLength: Int { ids.count - promptLength }
}
