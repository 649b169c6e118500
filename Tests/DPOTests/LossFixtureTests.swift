import DPO
import XCTest

/// Every loss type against TRL 1.16: value, rewards and gradient (torch.autograd on TRL's code).
final class LossFixtureTests: XCTestCase {
    /// Both sides compute in float64. TRL rebuilds each summed log-prob as the sum of n copies of
    /// logp/n (n ≤ 400), so its inputs carry up to ~n·2⁻⁵³ ≈ 5e-14 relative error, and each formula is a
    /// few dozen float64 operations more (observed agreement: within 1e-14). 1e-11 relative leaves a
    /// wide margin above that, while any real mistake (a wrong factor, sign, smoothing or length
    /// normalisation) moves the result by orders of magnitude more.
    let tolerance = 1e-11
    /// TRL's alpha_divergence runs in float32 only: its inputs round to 2⁻²⁴ ≈ 6e-8 relative, i.e. up
    /// to ~4e-6 absolute on summed log-probs near 60; exp((α−1)·x) turns an absolute input error into
    /// a relative one times |α−1| ≤ 0.5, and IPO's (score/n − 1/(2β))² then cancels against 1/(2β) = 5,
    /// amplifying relative error about tenfold: observed up to 1.1e-5. 1e-4·max(1, |x|) bounds that;
    /// a wrong factor, sign or clamp moves the result by far more.
    let float32Tolerance = 1e-4

    func testFixtureCoversEveryLossType() throws {
        let fixture = try LossFixture.load()
        XCTAssertEqual(fixture.trlVersion, "1.16.0")
        let covered = Set(fixture.cases.flatMap(\.settings.types))
        XCTAssertEqual(covered, Set(LossType.allCases))
        XCTAssertTrue(fixture.cases.contains { $0.settings.types.count > 1 }, "weighted combinations")
        XCTAssertEqual(Set(fixture.cases.compactMap(\.settings.fDivergenceType)), Set(FDivergence.allCases))
        XCTAssertTrue(fixture.cases.contains { $0.settings.ldAlpha != nil }, "ld_alpha")
        XCTAssertTrue(fixture.cases.contains { $0.settings.useWeighting == true }, "use_weighting")
    }

    func testLossRewardsAndGradientsMatchTRL() throws {
        for testCase in try LossFixture.load().cases {
            let loss = try DPOLoss(settings: testCase.settings.lossSettings)
            let pairs = testCase.pairs.map { $0.logProbs(loss) }
            let results = loss.losses(pairs, meanChosenTokens: testCase.meanChosenTokens)
            let count = Double(results.count)
            let expected = testCase.expected
            let name = "\(testCase.name) [\(expected.source)]"
            let tolerance = testCase.settings.float32 == true ? float32Tolerance : tolerance
            assertClose(results.map(\.loss).reduce(0, +) / count, expected.loss, relative: tolerance, "\(name) loss")
            assertClose(results.map(\.chosenReward).reduce(0, +) / count, expected.chosenReward,
                        relative: tolerance, "\(name) rewards/chosen")
            assertClose(results.map(\.rejectedReward).reduce(0, +) / count, expected.rejectedReward,
                        relative: tolerance, "\(name) rewards/rejected")
            if loss.settings.isBatchLevel && hasTies(pairs) {
                // torch.sort is not stable: among tied values TRL credits the sorted terms in torch's internal
                // order, we in batch order. Either is a valid subgradient; the credited values are the same set.
                for (side, actual, wanted) in [("chosen", results.map(\.dPolicyChosen), try XCTUnwrap(expected.dPolicyChosen)),
                                               ("rejected", results.map(\.dPolicyRejected), try XCTUnwrap(expected.dPolicyRejected))] {
                    for (a, e) in zip(actual.sorted(), wanted.sorted()) {
                        assertClose(a, e, relative: tolerance, "\(name) d/d policy \(side), sorted")
                    }
                }
                continue
            }
            for (i, result) in results.enumerated() {
                if let chosenTokens = expected.dPolicyChosenTokens, let rejectedTokens = expected.dPolicyRejectedTokens {
                    let gradients = loss.tokenGradients(result, chosenTokens: pairs[i].chosenTokens,
                                                        rejectedTokens: pairs[i].rejectedTokens)
                    for (side, actual, wanted) in [("chosen", gradients.chosen, chosenTokens[i]),
                                                   ("rejected", gradients.rejected, rejectedTokens[i])] {
                        XCTAssertEqual(actual.count, wanted.count, "\(name) pair \(i) \(side) tokens")
                        for (t, (a, e)) in zip(actual, wanted).enumerated() {
                            assertClose(a, e, relative: tolerance, "\(name) pair \(i) d/d \(side) token \(t)")
                        }
                    }
                } else {
                    assertClose(result.dPolicyChosen, try XCTUnwrap(expected.dPolicyChosen)[i], relative: tolerance,
                                "\(name) pair \(i) d/d policy chosen")
                    assertClose(result.dPolicyRejected, try XCTUnwrap(expected.dPolicyRejected)[i], relative: tolerance,
                                "\(name) pair \(i) d/d policy rejected")
                }
            }
        }
    }
}
