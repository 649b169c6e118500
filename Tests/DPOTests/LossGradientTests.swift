import DPO
import XCTest

/// The analytic derivatives against float64 central finite differences of `pairLoss(...).loss`.
final class LossGradientTests: XCTestCase {
    /// Step of the central difference, in nats of summed log-prob.
    let step = 1e-4

    /// Central differences err by h²/6·|f‴| (truncation: below 1e-9 here, the losses' third derivatives
    /// being at most of order β³ or 0) plus about 4·ε·|f|/h from rounding f (ε = 2⁻⁵², |f| up to ~1e7 for
    /// the squared losses at |log-ratio| in the thousands). The bound is that rounding term plus 1e-7
    /// relative to the derivative. No grid point sits within h of the hinge's kink.
    func tolerance(loss: Double, derivative: Double) -> Double {
        4 * Double.ulpOfOne * max(1, abs(loss)) / step + 1e-7 * max(1, abs(derivative))
    }

    func testDerivativesMatchFiniteDifferencesForEveryFixtureCase() throws {
        for testCase in try LossFixture.load().cases {
            let loss = try DPOLoss(settings: testCase.settings.lossSettings)
            for (i, pair) in testCase.pairs.map(\.logProbs).enumerated() {
                let value = { (p: PairLogProbs) in loss.pairLoss(p, meanChosenTokens: testCase.meanChosenTokens).loss }
                let analytic = loss.pairLoss(pair, meanChosenTokens: testCase.meanChosenTokens)
                var up = pair, down = pair
                up.policyChosen += step
                down.policyChosen -= step
                let chosen = (value(up) - value(down)) / (2 * step)
                up = pair
                down = pair
                up.policyRejected += step
                down.policyRejected -= step
                let rejected = (value(up) - value(down)) / (2 * step)
                XCTAssertEqual(analytic.dPolicyChosen, chosen,
                               accuracy: tolerance(loss: analytic.loss, derivative: chosen),
                               "\(testCase.name) pair \(i) d/d policy chosen")
                XCTAssertEqual(analytic.dPolicyRejected, rejected,
                               accuracy: tolerance(loss: analytic.loss, derivative: rejected),
                               "\(testCase.name) pair \(i) d/d policy rejected")
            }
        }
    }
}
