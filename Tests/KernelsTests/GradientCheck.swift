import XCTest

/// Deterministic pseudo-random doubles for test inputs (xorshift; no dependence on the code under test).
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Double {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Double(state >> 11) * 0x1p-53 * 2 - 1
    }
    mutating func array(_ n: Int, scale: Double = 1) -> [Double] { (0..<n).map { _ in next() * scale } }
}

/// Compares an analytic gradient with central finite differences in float64.
///
/// `loss` evaluates the scalar L = Σ out·w of the forward pass for a perturbed copy of the
/// input. With h = 1e-5 the truncation error is O(h²) ≈ 1e-10 and the rounding error
/// O(ε_64·|L|/h) ≈ 1e-11, so a relative tolerance of 1e-6 separates a correct gradient from
/// any real mistake (a wrong term changes the gradient at the 1e-2 level or more).
func assertGradient(
    _ name: String, input: [Double], analytic: [Double], tolerance: Double = 1e-6,
    file: StaticString = #filePath, line: UInt = #line, loss: ([Double]) -> Double
) {
    XCTAssertEqual(input.count, analytic.count, "\(name): gradient size", file: file, line: line)
    var x = input
    var worst = 0.0
    var scale = 0.0
    for i in 0..<x.count {
        let h = 1e-5
        let saved = x[i]
        x[i] = saved + h
        let plus = loss(x)
        x[i] = saved - h
        let minus = loss(x)
        x[i] = saved
        let numeric = (plus - minus) / (2 * h)
        worst = max(worst, abs(numeric - analytic[i]))
        scale = max(scale, abs(numeric))
    }
    XCTAssertGreaterThan(scale, 1e-3, "\(name): gradient is ~0, the check would prove nothing", file: file, line: line)
    XCTAssertLessThan(worst / scale, tolerance, "\(name): max |numeric - analytic| / max |numeric|", file: file, line: line)
}

/// Σ a·b in float64.
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// Runs a Float version of a kernel and checks it agrees with the float64 result to float32
/// precision: relative to the largest magnitude, 1e-5 allows a few ulps of accumulated rounding
/// over the short reductions used in these tests.
func assertFloatMatchesDouble(_ name: String, float: [Float], double: [Double],
                              file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(float.count, double.count, file: file, line: line)
    let scale = double.map(abs).max() ?? 0
    let worst = zip(float, double).map { abs(Double($0) - $1) }.max() ?? 0
    XCTAssertLessThan(worst, 1e-5 * max(scale, 1), "\(name): Float vs Double", file: file, line: line)
}
