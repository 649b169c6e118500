/// Which end of a too-long sequence survives `maxLength` (names as TRL's `truncation_mode`).
public enum TruncationMode: String, Sendable, CaseIterable, Codable {
    /// Keep the first `maxLength` tokens (TRL's default); pairs whose prompt alone fills
    /// `maxLength` are dropped, since no completion token would remain.
    case keepStart = "keep_start"
    /// Keep the last `maxLength` tokens, cutting the prompt's start first; nothing is dropped.
    case keepEnd = "keep_end"
    /// Share `maxLength` between the prompt and the longer response as LLaMA-Factory's
    /// `infer_seqlen` shares `cutoff_len` (`ProportionalTruncation`): both keep their start and
    /// the prompt stays shared by the two sequences; a pair is dropped only when the response's
    /// share rounds down to no token.
    case proportional
}
