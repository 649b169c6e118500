/// What the preference loss is: one or more `LossType`s combined as a weighted sum, and their
/// hyper-parameters, named as TRL's `DPOConfig` names them.
public struct LossSettings: Equatable, Sendable, Codable {
    /// The losses to combine (TRL's `loss_type` list).
    public var types: [LossType]
    /// One weight per entry of `types` (TRL's `loss_weights`); the loss is Σ weight·loss.
    public var weights: [Double]
    /// Strength of the KL regularisation (τ for `ipo`, the reward scale for `simpo`).
    public var beta: Double
    /// Probability ε that a preference label is flipped (`sigmoid`: cDPO, `robust`, `simpo`).
    public var labelSmoothing: Double
    /// SimPO's target reward margin γ (used only by `simpo`).
    public var simpoGamma: Double
    /// Treat every reference log-prob as 0, so the log-ratios are the policy log-probs.
    public var referenceFree: Bool

    /// Settings with TRL's defaults: sigmoid DPO, β = 0.1, no smoothing, γ = 0.5, weights all 1.
    public init(types: [LossType] = [.sigmoid], weights: [Double]? = nil, beta: Double = 0.1,
                labelSmoothing: Double = 0, simpoGamma: Double = 0.5, referenceFree: Bool = false) {
        self.types = types
        self.weights = weights ?? Array(repeating: 1, count: types.count)
        self.beta = beta
        self.labelSmoothing = labelSmoothing
        self.simpoGamma = simpoGamma
        self.referenceFree = referenceFree
    }

    /// Whether the trainer must compute reference log-probs: false when every loss is
    /// reference-free by nature (`sft`, `simpo`) or `referenceFree` is set.
    public var needsReference: Bool {
        !referenceFree && types.contains(where: \.usesReference)
    }

    /// Refuses settings that would make the loss meaningless.
    ///
    /// - Throws: `LossSettingsError` naming the offending option and the accepted values.
    public func validate() throws {
        if types.isEmpty { throw LossSettingsError.noLossTypes }
        if let duplicate = types.enumerated().first(where: { types[..<$0.offset].contains($0.element) }) {
            throw LossSettingsError.duplicateLossType(duplicate.element)
        }
        if weights.count != types.count {
            throw LossSettingsError.weightCountMismatch(types: types.count, weights: weights.count)
        }
        if let weight = weights.first(where: { !$0.isFinite }) { throw LossSettingsError.nonFiniteWeight(weight) }
        if !(beta > 0 && beta.isFinite) { throw LossSettingsError.nonPositiveBeta(beta) }
        if !(labelSmoothing >= 0 && labelSmoothing < 0.5) {
            throw LossSettingsError.labelSmoothingOutOfRange(labelSmoothing)
        }
        if labelSmoothing > 0 && !types.contains(where: \.usesLabelSmoothing) {
            throw LossSettingsError.labelSmoothingUnused(types)
        }
        if !(simpoGamma >= 0 && simpoGamma.isFinite) { throw LossSettingsError.negativeSimpoGamma(simpoGamma) }
    }
}
