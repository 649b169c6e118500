import Foundation

/// log σ(x) = −softplus(−x), exact to rounding for every finite x (no overflow of exp).
@inline(__always)
func logSigmoid(_ x: Double) -> Double {
    -(max(-x, 0) + log1p(exp(-abs(x))))
}

/// σ(x) = 1/(1 + e^(−x)), evaluated so that exp never overflows.
@inline(__always)
func logistic(_ x: Double) -> Double {
    if x >= 0 { return 1 / (1 + exp(-x)) }
    let e = exp(x)
    return e / (1 + e)
}

/// σ′(x) = σ(x)·σ(−x).
@inline(__always)
func logisticDerivative(_ x: Double) -> Double {
    logistic(x) * logistic(-x)
}
