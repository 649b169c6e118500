/// One preference pair's sequence log-probabilities: sums over completion tokens only, with the
/// prompt and padding masked out, and the completion token counts.
public struct PairLogProbs: Sendable, Equatable {
    /// log π_θ(y₊|x), summed over the chosen completion's tokens.
    public var policyChosen: Double
    /// log π_θ(y₋|x), summed over the rejected completion's tokens.
    public var policyRejected: Double
    /// log π_ref(y₊|x); ignored when the settings do not need a reference.
    public var referenceChosen: Double
    /// log π_ref(y₋|x); ignored when the settings do not need a reference.
    public var referenceRejected: Double
    /// Number of chosen completion tokens n₊ (length-normalised losses divide by max(n₊, 1)).
    public var chosenTokens: Int
    /// Number of rejected completion tokens n₋.
    public var rejectedTokens: Int
    /// WPO's weight of the pair (a constant: no gradient flows through it); 1 without `use_weighting`.
    public var weight: Double
    /// Per-token log-probs, for the losses that read them (`token_pair`); nil otherwise.
    public var tokens: TokenLogProbs?

    /// A pair's log-probs; the reference ones default to 0 for reference-free losses.
    public init(policyChosen: Double, policyRejected: Double, referenceChosen: Double = 0,
                referenceRejected: Double = 0, chosenTokens: Int, rejectedTokens: Int, weight: Double = 1,
                tokens: TokenLogProbs? = nil) {
        self.policyChosen = policyChosen
        self.policyRejected = policyRejected
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
        self.weight = weight
        self.tokens = tokens
    }
}

/// One pair's log-probs token by token, in completion order: entry t of each array is the
/// log-prob of completion token t (policy and reference alike).
public struct TokenLogProbs: Sendable, Equatable {
    /// log π_θ of each chosen completion token.
    public var policyChosen: [Double]
    /// log π_θ of each rejected completion token.
    public var policyRejected: [Double]
    /// log π_ref of each chosen completion token (zeros when reference-free).
    public var referenceChosen: [Double]
    /// log π_ref of each rejected completion token.
    public var referenceRejected: [Double]

    /// Per-token log-probs of a pair.
    public init(policyChosen: [Double], policyRejected: [Double], referenceChosen: [Double], referenceRejected: [Double]) {
        self.policyChosen = policyChosen
        self.policyRejected = policyRejected
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
    }
}
