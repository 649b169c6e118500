/// Why a generator refused a token.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// `prefill` was given no tokens.
    case emptyPrompt
    /// A token id outside `0..<vocabularySize`.
    case tokenOutOfVocabulary(id: Int32, vocabularySize: Int)
    /// The sequence would need more positions than the cache holds (at most `n_positions`).
    case contextFull(tokens: Int, capacity: Int)
    /// Sampling settings that do not describe a distribution.
    case invalidSampling(String)

    /// The reason, for the user.
    public var description: String {
        switch self {
        case .emptyPrompt:
            "the prompt has no tokens: generation needs at least one"
        case let .tokenOutOfVocabulary(id, size):
            "token id \(id) is outside the vocabulary (size \(size))"
        case let .contextFull(tokens, capacity):
            "\(tokens) tokens do not fit the model's context of \(capacity) positions (n_positions): "
                + "shorten the prompt or generate fewer tokens"
        case let .invalidSampling(reason):
            reason
        }
    }
}
