import GPT2

/// Global L2 norm of a gradient buffer, accumulated in `Double` so the value does not depend on
/// float rounding of a 124M-term sum.
public func gradientNorm(_ gradients: FloatBuffer) -> Double {
    var sum = 0.0
    let g = gradients.base
    for i in 0..<gradients.count {
        let x = Double(g[i])
        sum += x * x
    }
    return sum.squareRoot()
}

/// Clips gradients to a global norm as `torch.nn.utils.clip_grad_norm_` does: with
/// `coef = maxNorm / (norm + 1e-6)`, gradients are scaled by `coef` when it is below 1.
///
/// - Returns: the norm before clipping (what TRL logs as `grad_norm`).
@discardableResult
public func clipGradientNorm(_ gradients: FloatBuffer, maxNorm: Double) -> Double {
    let norm = gradientNorm(gradients)
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        let scale = Float(coefficient)
        let g = gradients.base
        for i in 0..<gradients.count { g[i] *= scale }
    }
    return norm
}
