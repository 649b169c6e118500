/// Why `GPT2Generator.generate` stopped.
public enum StopReason: Equatable, Sendable {
    /// The stop token (`<|endoftext|>`) was generated; it is the last token of the completion.
    case endOfText
    /// The requested number of new tokens was generated.
    case maxNewTokens
    /// The sequence fills the cache (`n_positions`): no further token has a position.
    case contextFull
}

/// The tokens `GPT2Generator.generate` produced and why it stopped.
public struct Generation: Equatable, Sendable {
    /// The new tokens, without the prompt.
    public var tokens: [Int32]
    /// Why generation ended.
    public var stopReason: StopReason

    /// A result of `generate`.
    public init(tokens: [Int32], stopReason: StopReason) {
        self.tokens = tokens
        self.stopReason = stopReason
    }
}

extension GPT2Generator {
    /// GPT-2's `<|endoftext|>` id, where generation stops by default.
    public static let endOfTextID: Int32 = 50256

    /// Continues `prompt` by up to `maxNewTokens` tokens chosen by `sampler`, stopping after
    /// `stopToken` (nil: never) or when the sequence fills the cache. `onToken` sees each new
    /// token as soon as it is chosen. The prompt and the new tokens together never exceed `capacity`.
    public func generate(
        prompt: [Int32], maxNewTokens: Int, sampler: inout TokenSampler, stopToken: Int32? = endOfTextID,
        onToken: (Int32) -> Void = { _ in }
    ) throws(GenerationError) -> Generation {
        var logits = try prefill(prompt)
        var tokens: [Int32] = []
        tokens.reserveCapacity(max(0, maxNewTokens))
        while tokens.count < maxNewTokens {
            guard prompt.count + tokens.count < capacity else { return Generation(tokens: tokens, stopReason: .contextFull) }
            if let previous = tokens.last { logits = try step(previous) }
            let token = sampler.next(logits)
            tokens.append(token)
            onToken(token)
            if token == stopToken { return Generation(tokens: tokens, stopReason: .endOfText) }
        }
        return Generation(tokens: tokens, stopReason: .maxNewTokens)
    }
}
