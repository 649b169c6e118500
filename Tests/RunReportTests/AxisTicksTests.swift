import RunReport
import XCTest

final class AxisTicksTests: XCTestCase {
    func testTicksAreRoundAndCoverTheRange() {
        let cases: [(low: Double, high: Double, count: Int, integral: Bool, values: [Double], labels: [String])] = [
            (0, 1, 6, false, [0, 0.2, 0.4, 0.6, 0.8, 1], ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
            (0.31, 0.71, 5, false, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8], ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8"]),
            (-48.3, -39.9, 5, false, [-50, -48, -46, -44, -42, -40, -38], ["-50", "-48", "-46", "-44", "-42", "-40", "-38"]),
            (-0.23, 0.41, 5, false, [-0.4, -0.2, 0, 0.2, 0.4, 0.6], ["-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6"]),
            (1, 230, 7, true, [0, 50, 100, 150, 200, 250], ["0", "50", "100", "150", "200", "250"]),
            (1, 3, 7, true, [1, 2, 3], ["1", "2", "3"]),
            (0, 1.2e-4, 6, false, [0, 2e-5, 4e-5, 6e-5, 8e-5, 1e-4, 1.2e-4],
             ["0", "2e-5", "4e-5", "6e-5", "8e-5", "1e-4", "1.2e-4"]),
            (0, 2.5e6, 5, false, [0, 5e5, 1e6, 1.5e6, 2e6, 2.5e6], ["0", "5e5", "1e6", "1.5e6", "2e6", "2.5e6"]),
            (5, 5, 5, false, [4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6], ["4.4", "4.6", "4.8", "5.0", "5.2", "5.4", "5.6"]),
            (0, 0, 5, false, [-1, -0.5, 0, 0.5, 1], ["-1.0", "-0.5", "0.0", "0.5", "1.0"]),
        ]
        for (low, high, count, integral, values, labels) in cases {
            let ticks = AxisTicks(covering: low, high, targetCount: count, integral: integral)
            XCTAssertEqual(ticks.values.count, values.count, "\(low)...\(high): \(ticks.values)")
            for (tick, expected) in zip(ticks.values, values) {
                XCTAssertEqual(tick, expected, accuracy: abs(expected) * 1e-9 + 1e-15, "\(low)...\(high)")
            }
            XCTAssertEqual(ticks.labels, labels, "\(low)...\(high)")
            XCTAssertLessThanOrEqual(ticks.values.first!, min(low, high))
            XCTAssertGreaterThanOrEqual(ticks.values.last!, max(low, high))
        }
    }

    func testReversedAndNonFiniteBoundsStillGiveAnAxis() {
        XCTAssertEqual(AxisTicks(covering: 1, 0, targetCount: 6).values.count, 6)
        XCTAssertEqual(AxisTicks(covering: .nan, .infinity).labels.first, "0.0")
        XCTAssertEqual(AxisTicks(covering: .nan, .infinity).labels.last, "1.0")
    }
}
