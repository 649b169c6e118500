import GPT2

/// The result of comparing backpropagated gradients with a finite difference of the loss.
public struct GradientCheckResult: Sendable {
    /// ‖g‖: the directional derivative along g/‖g‖ predicted by backpropagation.
    public let analytic: Double
    /// The directional derivative along u = g/‖g‖ from forward passes only: central differences
    /// D(h) = (L(θ + hu) − L(θ − hu)) / 2h at h = ε and ε/2, combined by Richardson
    /// extrapolation (4·D(ε/2) − D(ε)) / 3 so the O(h²) curvature term cancels.
    public let numeric: Double
    /// |numeric − analytic| / |analytic|.
    public var relativeError: Double { abs(numeric - analytic) / max(abs(analytic), 1e-30) }
}

/// Checks the model's gradient of `L = Σ_m weights[m]·logp[m]` against a central finite
/// difference along the gradient's own direction (the direction of largest signal, so float32
/// rounding of the two losses is small next to their difference). Leaves parameters unchanged
/// and `gradients` holding ∂L/∂θ for `input`.
public func checkGradientAlongGradient(
    model: GPT2Model, input: GPT2Input, weights: [Float], epsilon: Double = 1e-2
) throws -> GradientCheckResult {
    func loss() throws -> Double {
        let logp = try model.forward(input)
        return zip(logp, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    model.zeroGradients()
    _ = try loss()
    weights.withUnsafeBufferPointer { model.backward(dlogp: $0) }
    return try checkDirectionalDerivative(model: model, epsilon: epsilon, loss: loss)
}

/// Compares the gradient in `model.gradients` (already computed for `loss`), restricted to
/// `ranges` of the flat trainable buffer (all of it by default; a LoRA model's adapter), with
/// finite differences of `loss` along that restricted gradient's direction. Leaves the parameters
/// unchanged.
public func checkDirectionalDerivative(
    model: GPT2Model, ranges: [Range<Int>]? = nil, epsilon: Double = 1e-2, loss: () throws -> Double
) throws -> GradientCheckResult {
    guard let full = model.gradients else { preconditionFailure("gradient check on a frozen model") }
    let gradients = FloatBuffer(count: full.count)
    for range in ranges ?? [0..<full.count] {
        (gradients.base + range.lowerBound).update(from: full.base + range.lowerBound, count: range.count)
    }
    let norm = gradientNorm(gradients)
    let parameters = model.trainableParameters
    let saved = FloatBuffer(count: parameters.count)
    saved.copy(from: parameters)
    defer {
        parameters.copy(from: saved)
        model.parametersChanged()
    }
    func centralDifference(_ h: Double) throws -> Double {
        func shifted(_ step: Double) throws -> Double {
            let scale = Float(step / norm)
            let p = parameters.base, s = saved.base, g = gradients.base
            for i in 0..<parameters.count { p[i] = s[i] + scale * g[i] }
            model.parametersChanged()
            return try loss()
        }
        return (try shifted(h) - (try shifted(-h))) / (2 * h)
    }
    let coarse = try centralDifference(epsilon), fine = try centralDifference(epsilon / 2)
    return GradientCheckResult(analytic: norm, numeric: (4 * fine - coarse) / 3)
}
