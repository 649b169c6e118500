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
    /// DiscoPOP's temperature τ (used only by `discopop`).
    public var discopopTau: Double
    /// The f-divergence whose f′ replaces the log-ratios (TRL's `f_divergence_type`).
    public var fDivergence: FDivergence
    /// α of `alpha_divergence` (TRL's `f_alpha_divergence_coef`).
    public var fAlphaDivergenceCoef: Double
    /// LD-DPO's α: completion tokens beyond the shorter completion's length count α times in the
    /// summed log-probs of policy and reference (nil: no down-weighting).
    public var ldAlpha: Double?
    /// WPO: each pair's loss weighted by the product of its two completions' length-normalised
    /// policy probabilities (TRL's `use_weighting`).
    public var useWeighting: Bool

    /// Settings with TRL's defaults: sigmoid DPO, β = 0.1, no smoothing, γ = 0.5, weights all 1,
    /// τ = 0.05, reverse KL with α = 0.5, no length desensitisation, no weighting.
    public init(types: [LossType] = [.sigmoid], weights: [Double]? = nil, beta: Double = 0.1,
                labelSmoothing: Double = 0, simpoGamma: Double = 0.5, referenceFree: Bool = false,
                discopopTau: Double = 0.05, fDivergence: FDivergence = .reverseKL, fAlphaDivergenceCoef: Double = 0.5,
                ldAlpha: Double? = nil, useWeighting: Bool = false) {
        self.types = types
        self.weights = weights ?? Array(repeating: 1, count: types.count)
        self.beta = beta
        self.labelSmoothing = labelSmoothing
        self.simpoGamma = simpoGamma
        self.referenceFree = referenceFree
        self.discopopTau = discopopTau
        self.fDivergence = fDivergence
        self.fAlphaDivergenceCoef = fAlphaDivergenceCoef
        self.ldAlpha = ldAlpha
        self.useWeighting = useWeighting
    }

    /// Whether some loss depends on the whole global batch (AOT), so the trainer must gather every
    /// pair's log-probs before the backward pass.
    public var isBatchLevel: Bool { types.contains(where: \.isBatchLevel) }

    /// Whether some loss reads per-token log-probs of policy and reference (`token_pair`).
    public var needsTokenLogProbs: Bool { types.contains(.tokenPair) }

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
        if types.contains(.exoPair) && labelSmoothing == 0 { throw LossSettingsError.exoNeedsLabelSmoothing }
        if !(discopopTau > 0 && discopopTau.isFinite) { throw LossSettingsError.nonPositiveDiscopopTau(discopopTau) }
        if fDivergence != .reverseKL, let type = types.first(where: { !$0.acceptsFDivergence }) {
            throw LossSettingsError.fDivergenceUnsupported(fDivergence, type)
        }
        if !(fAlphaDivergenceCoef > 0 && fAlphaDivergenceCoef.isFinite) {
            throw LossSettingsError.nonPositiveAlphaCoefficient(fAlphaDivergenceCoef)
        }
        if let ldAlpha {
            if !(ldAlpha >= 0 && ldAlpha <= 1) { throw LossSettingsError.ldAlphaOutOfRange(ldAlpha) }
            if types.contains(.tokenPair) { throw LossSettingsError.ldAlphaWithTokenPair }
        }
        if useWeighting, let type = types.first(where: { $0.isBatchLevel || $0 == .sft }) {
            throw LossSettingsError.weightingUnsupported(type)
        }
    }
}
