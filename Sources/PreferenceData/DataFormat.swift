/// The data set layouts `dpo-ddp` reads (names as given to `--data-format`).
public enum DataFormat: String, Sendable, CaseIterable, Codable {
    /// TRL standard: `prompt`, `chosen`, `rejected` strings.
    case standard
    /// TRL implicit prompt: only `chosen` and `rejected` (strings or conversations); the prompt is
    /// their longest common prefix.
    case implicitPrompt = "implicit-prompt"
    /// TRL conversational: `prompt`, `chosen`, `rejected` as lists of `{role, content}` messages.
    case conversational
    /// LLaMA-Factory alpaca ranking: `instruction`, optional `input`, `chosen` and `rejected` strings.
    case alpaca
    /// LLaMA-Factory ShareGPT ranking: `conversations` (`from`/`value`) and `chosen`/`rejected` messages.
    case sharegpt

    /// The format a (first) row announces, or nil when none fits: `conversations` means ShareGPT,
    /// `instruction` alpaca, a `prompt` list conversational, a `prompt` string standard, and
    /// `chosen` with `rejected` alone implicit prompt.
    public static func detect(row: [String: Any]) -> DataFormat? {
        if row["conversations"] != nil { return .sharegpt }
        if row["instruction"] != nil { return .alpaca }
        guard row["chosen"] != nil, row["rejected"] != nil else { return nil }
        guard let prompt = row["prompt"] else { return .implicitPrompt }
        return prompt is [Any] ? .conversational : .standard
    }
}
