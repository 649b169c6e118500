/// The loss of one preference pair, its gradient with respect to the two summed policy log-probs,
/// and the implicit rewards TRL logs for it.
public struct PairLoss: Sendable, Equatable {
    /// The weighted sum of the configured losses for this pair (the trainer averages over pairs).
    public var loss: Double
    /// ∂loss/∂`policyChosen` (the summed log-prob), including any length normalisation; each
    /// chosen completion token's log-prob receives this same value.
    public var dPolicyChosen: Double
    /// ∂loss/∂`policyRejected`, as `dPolicyChosen`.
    public var dPolicyRejected: Double
    /// `rewards/chosen` for this pair: β·(log π_θ(y₊) − log π_ref(y₊)); for SimPO without a
    /// reference, β·log π_θ(y₊)/n₊ as TRL's `CPOTrainer` logs it.
    public var chosenReward: Double
    /// `rewards/rejected` for this pair, as `chosenReward`.
    public var rejectedReward: Double
    /// ∂loss/∂ log π_θ of each chosen completion token on top of `dPolicyChosen` (the per-token
    /// losses, `token_pair`); empty when every token receives just `dPolicyChosen`.
    public var dPolicyChosenTokens: [Double] = []
    /// As `dPolicyChosenTokens`, for the rejected completion.
    public var dPolicyRejectedTokens: [Double] = []

    /// Adds `other`'s loss and derivatives (not its rewards) to this one.
    mutating func addTerms(of other: PairLoss) {
        loss += other.loss
        dPolicyChosen += other.dPolicyChosen
        dPolicyRejected += other.dPolicyRejected
    }
}
