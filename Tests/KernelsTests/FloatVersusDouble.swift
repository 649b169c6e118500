import XCTest

/// float32's unit roundoff ε = 2⁻²³ ≈ 1.19e-7: one rounding changes a value by at most ε/2 of it.
let float32Epsilon = Double(Float.ulpOfOne)

/// Checks a Float kernel against the same kernel run in Double on the same inputs (Float values
/// converted exactly), value by value: |float − double| ≤ bounds[i]. Each test derives its bounds
/// from float32 rounding (a few ε times the size of the terms that make up the value), so a real
/// mistake (a lost term, a wrong lane, a skipped chunk) shows up as a ratio far above 1.
func assertWithinBounds(_ name: String, float: [Float], double: [Double], bounds: [Double],
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(float.count, double.count, "\(name): count", file: file, line: line)
    XCTAssertEqual(float.count, bounds.count, "\(name): count of bounds", file: file, line: line)
    var worst = 0.0
    var worstIndex = 0
    for i in 0..<min(float.count, double.count, bounds.count) {
        let error = abs(Double(float[i]) - double[i])
        let ratio = error == 0 ? 0 : error / bounds[i]
        if !(ratio <= worst) { worst = ratio; worstIndex = i }
    }
    print("float-vs-double \(name): worst |float - double| / bound = \(worst)")
    XCTAssertLessThanOrEqual(worst, 1, "\(name): worst |float - double| / bound at index \(worstIndex)",
                             file: file, line: line)
}
