/// Maps a data interval onto a pixel interval linearly (the pixel interval may run backwards,
/// as a y axis does).
struct LinearScale {
    /// The data interval.
    var domain: ClosedRange<Double>
    /// The pixel coordinates of `domain.lowerBound` and `domain.upperBound`.
    var pixels: (start: Double, end: Double)

    /// The pixel coordinate of `value`; the middle of the pixel interval for an empty domain.
    func callAsFunction(_ value: Double) -> Double {
        let width = domain.upperBound - domain.lowerBound
        guard width > 0 else { return (pixels.start + pixels.end) / 2 }
        return pixels.start + (value - domain.lowerBound) / width * (pixels.end - pixels.start)
    }
}
