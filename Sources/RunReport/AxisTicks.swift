import Foundation

/// Round tick values covering a range (1, 2 or 5 times a power of ten apart), and their labels.
///
/// The ticks start at or below the range's lower end and stop at or above its upper end, so the
/// first and last tick make a tidy axis domain. A range of zero width is widened around its value.
public struct AxisTicks: Equatable, Sendable {
    /// The tick values, increasing, evenly spaced by `spacing`.
    public var values: [Double]
    /// The distance between neighbouring ticks.
    public var spacing: Double

    /// Ticks covering `lower...upper`, about `targetCount` of them; `integral` keeps the spacing a
    /// whole number (for steps). Non-finite bounds give the ticks of 0...1.
    public init(covering lower: Double, _ upper: Double, targetCount: Int = 5, integral: Bool = false) {
        var (low, high) = lower.isFinite && upper.isFinite ? (min(lower, upper), max(lower, upper)) : (0, 1)
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        var spacing = Self.nice((high - low) / Double(max(targetCount - 1, 1)))
        if integral { spacing = max(1, spacing.rounded()) }
        // The tolerance keeps a bound that is a tick (0.3 / 0.1 = 2.9999999999999996) from adding one.
        let first = (low / spacing + 1e-9).rounded(.down)
        let last = (high / spacing - 1e-9).rounded(.up)
        // Multiples of the spacing, not repeated sums, so the values carry no accumulated error;
        // zero is written +0 so that no label reads "-0".
        values = stride(from: first, through: last, by: 1).map { $0 == 0 ? 0 : $0 * spacing }
        self.spacing = spacing
    }

    /// The ticks' labels, as short as the spacing allows and all in one notation.
    public var labels: [String] { values.map(label) }

    /// `value` written with as many decimals as the spacing needs: fixed-point, or `2e-5` style
    /// when the spacing is below 0.001 or the values reach a million.
    public func label(_ value: Double) -> String {
        let spacingExponent = Int((log10(spacing) + 1e-9).rounded(.down))
        let largest = values.map(abs).max() ?? abs(value)
        if spacing >= 1e-3 && largest < 1e6 {
            let text = String(format: "%.\(max(0, -spacingExponent))f", value)
            return Double(text) == 0 && text.hasPrefix("-") ? String(text.dropFirst()) : text
        }
        guard value != 0 else { return "0" }
        var exponent = Int(log10(abs(value)).rounded(.down))
        var decimals = max(0, exponent - spacingExponent)
        var mantissa = String(format: "%.\(decimals)f", value / pow(10, Double(exponent)))
        if let rounded = Double(mantissa), abs(rounded) >= 10 {
            exponent += 1
            decimals = max(0, exponent - spacingExponent)
            mantissa = String(format: "%.\(decimals)f", value / pow(10, Double(exponent)))
        }
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        return "\(mantissa)e\(exponent)"
    }

    /// The nice number nearest `value`: 1, 2, 5 or 10 times a power of ten (Heckbert's rule).
    private static func nice(_ value: Double) -> Double {
        let power = pow(10, log10(value).rounded(.down))
        let fraction = value / power
        return (fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10) * power
    }
}
