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

    /// A pair's log-probs; the reference ones default to 0 for reference-free losses.
    public init(policyChosen: Double, policyRejected: Double, referenceChosen: Double = 0,
                referenceRejected: Double = 0, chosenTokens: Int, rejectedTokens: Int) {
        self.policyChosen = policyChosen
        self.policyRejected = policyRejected
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
        self.chosenTokens = chosenTokens
        self.rejectedTokens = rejectedTokens
    }
}
