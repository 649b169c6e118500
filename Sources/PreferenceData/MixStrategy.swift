/// How several data sets become one (LLaMA-Factory's `mix_strategy`).
public enum MixStrategy: String, Sendable, CaseIterable, Codable {
    /// One after the other, in the order given.
    case concat
    /// Alternating (or drawn by `interleave_probs`) until the first set runs out
    /// (Hugging Face `interleave_datasets`, `stopping_strategy="first_exhausted"`).
    case interleaveUnder = "interleave_under"
    /// Alternating (or drawn by `interleave_probs`) until every set has been used up once, the
    /// shorter sets starting over as needed (`stopping_strategy="all_exhausted"`).
    case interleaveOver = "interleave_over"
}
