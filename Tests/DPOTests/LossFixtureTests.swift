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

    func testFixtureCoversEveryLossType() throws {
        let fixture = try LossFixture.load()
        XCTAssertEqual(fixture.trlVersion, "1.16.0")
        let covered = Set(fixture.cases.flatMap(\.settings.types))
        XCTAssertEqual(covered, Set(LossType.allCases))
        XCTAssertTrue(fixture.cases.contains { $0.settings.types.count > 1 }, "weighted combinations")
    }

    func testLossRewardsAndGradientsMatchTRL() throws {
        for testCase in try LossFixture.load().cases {
            let loss = try DPOLoss(settings: testCase.settings.lossSettings)
            let results = testCase.pairs.map { loss.pairLoss($0.logProbs, meanChosenTokens: testCase.meanChosenTokens) }
            let count = Double(results.count)
            let expected = testCase.expected
            let name = "\(testCase.name) [\(expected.source)]"
            assertClose(results.map(\.loss).reduce(0, +) / count, expected.loss, relative: tolerance, "\(name) loss")
            assertClose(results.map(\.chosenReward).reduce(0, +) / count, expected.chosenReward,
                        relative: tolerance, "\(name) rewards/chosen")
            assertClose(results.map(\.rejectedReward).reduce(0, +) / count, expected.rejectedReward,
                        relative: tolerance, "\(name) rewards/rejected")
            for (i, result) in results.enumerated() {
                assertClose(result.dPolicyChosen, expected.dPolicyChosen[i], relative: tolerance,
                            "\(name) pair \(i) d/d policy chosen")
                assertClose(result.dPolicyRejected, expected.dPolicyRejected[i], relative: tolerance,
                            "\(name) pair \(i) d/d policy rejected")
            }
        }
    }
}
