/// How the next token is chosen from the logits, as transformers' `generate` does it:
/// greedy (argmax), or sampling from softmax(logits / temperature) restricted to the `topK`
/// most likely tokens and then to the nucleus of probability `topP`.
public struct SamplingSettings: Equatable, Sendable {
    /// Take the most likely token (the first on ties); the other settings are ignored.
    public var greedy: Bool
    /// Divides the logits before the softmax; must be > 0 when sampling.
    public var temperature: Float
    /// Keep only tokens whose scaled logit is at least the k-th largest (ties kept); 0 keeps all.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (at least
    /// one token); 1 keeps all.
    public var topP: Float

    /// Settings; the defaults sample from the model's distribution unchanged.
    public init(greedy: Bool = false, temperature: Float = 1, topK: Int = 0, topP: Float = 1) {
        self.greedy = greedy
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Always the most likely token.
    public static let argmax = SamplingSettings(greedy: true)

    /// Checks that the settings describe a distribution.
    public func validate() throws(GenerationError) {
        guard !greedy else { return }
        guard temperature > 0, temperature.isFinite else {
            throw .invalidSampling("temperature must be a positive number, got \(temperature) (use greedy decoding for 0)")
        }
        guard topK >= 0 else { throw .invalidSampling("top-k must be >= 0 (0 keeps every token), got \(topK)") }
        guard topP > 0, topP <= 1 else { throw .invalidSampling("top-p must be in (0, 1], got \(topP)") }
    }
}
