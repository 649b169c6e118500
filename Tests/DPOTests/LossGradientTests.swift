import DPO
import XCTest

/// The analytic derivatives against float64 central finite differences of the batch's summed loss.
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

    /// Summed-log-prob cases: d/d each pair's summed policy log-probs. AOT's loss has kinks where two
    /// sorted values tie; batches with a tie are left to the TRL fixture test.
    func testDerivativesMatchFiniteDifferencesForEveryFixtureCase() throws {
        for testCase in try LossFixture.load().cases where testCase.pairs.allSatisfy({ $0.tokens == nil }) {
            let loss = try DPOLoss(settings: testCase.settings.lossSettings)
            let pairs = testCase.pairs.map { $0.logProbs(loss) }
            if loss.settings.isBatchLevel && hasTies(pairs) { continue }
            let total = { (p: [PairLogProbs]) in loss.losses(p, meanChosenTokens: testCase.meanChosenTokens).map(\.loss).reduce(0, +) }
            let analytic = loss.losses(pairs, meanChosenTokens: testCase.meanChosenTokens)
            let value = total(pairs)
            for i in pairs.indices {
                for (side, path) in [("chosen", \PairLogProbs.policyChosen), ("rejected", \PairLogProbs.policyRejected)] {
                    var up = pairs, down = pairs
                    up[i][keyPath: path] += step
                    down[i][keyPath: path] -= step
                    let numeric = (total(up) - total(down)) / (2 * step)
                    let exact = side == "chosen" ? analytic[i].dPolicyChosen : analytic[i].dPolicyRejected
                    XCTAssertEqual(exact, numeric, accuracy: tolerance(loss: value, derivative: numeric),
                                   "\(testCase.name) pair \(i) d/d policy \(side)")
                }
            }
        }
    }

    /// Per-token cases (`token_pair`, `ld_alpha`, `use_weighting`): d/d each policy token log-prob,
    /// in float64. WPO's weight is a constant in TRL (no gradient through it), so the token's
    /// log Σ p² moves with it, keeping the weight fixed.
    func testTokenDerivativesMatchFiniteDifferences() throws {
        var checked = Set<LossType>()
        for testCase in try LossFixture.load().cases where testCase.pairs.allSatisfy({ $0.tokens != nil }) {
            let loss = try DPOLoss(settings: testCase.settings.lossSettings)
            let total = { (p: [LossFixture.Pair]) in loss.losses(p.map { $0.logProbs(loss) }).map(\.loss).reduce(0, +) }
            let pairs = testCase.pairs
            let analytic = loss.losses(pairs.map { $0.logProbs(loss) })
            let value = total(pairs)
            for i in pairs.indices {
                let tokens = try XCTUnwrap(pairs[i].tokens)
                let exact = loss.tokenGradients(analytic[i], chosenTokens: tokens.policyChosen.count,
                                                rejectedTokens: tokens.policyRejected.count)
                for (side, logps, squares, grads) in [
                    ("chosen", \LossFixture.Tokens.policyChosen, \LossFixture.Tokens.logSumSqChosen, exact.chosen),
                    ("rejected", \LossFixture.Tokens.policyRejected, \LossFixture.Tokens.logSumSqRejected, exact.rejected),
                ] {
                    for t in grads.indices {
                        var up = pairs, down = pairs
                        up[i].tokens![keyPath: logps][t] += step
                        up[i].tokens![keyPath: squares][t] += step
                        down[i].tokens![keyPath: logps][t] -= step
                        down[i].tokens![keyPath: squares][t] -= step
                        let numeric = (total(up) - total(down)) / (2 * step)
                        XCTAssertEqual(grads[t], numeric, accuracy: tolerance(loss: value, derivative: numeric),
                                       "\(testCase.name) pair \(i) d/d \(side) token \(t)")
                    }
                }
            }
            checked.formUnion(loss.settings.types)
        }
        XCTAssertTrue(checked.contains(.tokenPair), "token_pair has per-token cases")
    }
}
