/// The bfloat16 value nearest to `x` (ties to even), computed in Double from `x`'s exponent rather
/// than from bit tricks, so it checks `BFloat16.round` independently: bfloat16 keeps 8 significant
/// bits, so its spacing at `x` is 2^(exponent − 7) (2^−133 for the subnormals below 2^−126), and
/// values rounding past the largest finite bfloat16 become ±inf. NaN stays NaN.
public func referenceBF16(_ x: Float) -> Double {
    guard x.isFinite, x != 0 else { return Double(x) }
    let d = Double(x)
    let spacing = Double(sign: .plus, exponent: max(Int(d.exponent), -126) - 7, significand: 1)
    let rounded = (d / spacing).rounded(.toNearestOrEven) * spacing
    return abs(rounded) >= 0x1p128 ? (d < 0 ? -.infinity : .infinity) : rounded
}
