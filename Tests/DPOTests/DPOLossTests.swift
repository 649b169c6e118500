import DPO
import Foundation
import XCTest

/// Behaviour of `DPOLoss` beyond the fixture: reference handling, stability, clamping, rewards.
final class DPOLossTests: XCTestCase {
    let pair = PairLogProbs(policyChosen: -12, policyRejected: -15, referenceChosen: -13, referenceRejected: -14,
                            chosenTokens: 6, rejectedTokens: 8)

    func testReferenceFreeIgnoresTheReference() throws {
        let free = try DPOLoss(settings: LossSettings(types: [.sigmoid, .ncaPair], referenceFree: true))
        let zeroReference = try DPOLoss(settings: LossSettings(types: [.sigmoid, .ncaPair]))
        var withoutReference = pair
        withoutReference.referenceChosen = 0
        withoutReference.referenceRejected = 0
        XCTAssertEqual(free.pairLoss(pair), zeroReference.pairLoss(withoutReference))
        XCTAssertEqual(free.pairLoss(pair).chosenReward, 0.1 * -12)
    }

    func testSigmoidMatchesTheDesignFormula() throws {
        // loss = −log σ(β(c − r)), ∂/∂logπ(y₊) = −β·σ(−β(c − r)), c = 1, r = −1.
        let result = try DPOLoss(settings: LossSettings()).pairLoss(pair)
        XCTAssertEqual(result.loss, log(1 + exp(-0.2)), accuracy: 1e-15)
        XCTAssertEqual(result.dPolicyChosen, -0.1 / (1 + exp(0.2)), accuracy: 1e-15)
        XCTAssertEqual(result.dPolicyRejected, -result.dPolicyChosen)
        XCTAssertEqual(result.chosenReward, 0.1, accuracy: 1e-15)
        XCTAssertEqual(result.rejectedReward, -0.1, accuracy: 1e-15)
    }

    func testExtremeLogRatiosStayFinite() throws {
        for type in LossType.allCases {
            let loss = try DPOLoss(settings: LossSettings(types: [type], beta: 10,
                                                          labelSmoothing: type.usesLabelSmoothing ? 0.1 : 0))
            for (chosen, rejected) in [(-1e5, -1.0), (-1.0, -1e5), (-1e5, -1e5)] {
                let tokens = TokenLogProbs(policyChosen: Array(repeating: chosen / 3, count: 3),
                                           policyRejected: Array(repeating: rejected / 5, count: 5),
                                           referenceChosen: [0, 0, 0], referenceRejected: [0, 0, 0, 0, 0])
                let result = loss.losses([PairLogProbs(policyChosen: chosen, policyRejected: rejected,
                                                       chosenTokens: 3, rejectedTokens: 5, tokens: tokens)])[0]
                XCTAssertTrue(result.loss.isFinite && result.dPolicyChosen.isFinite && result.dPolicyRejected.isFinite
                              && (result.dPolicyChosenTokens + result.dPolicyRejectedTokens).allSatisfy(\.isFinite),
                              "\(type) at (\(chosen), \(rejected)): \(result)")
            }
        }
        let sigmoid = try DPOLoss(settings: LossSettings(beta: 10))
        let wrong = sigmoid.pairLoss(PairLogProbs(policyChosen: -1e5, policyRejected: -1, chosenTokens: 3, rejectedTokens: 5))
        XCTAssertEqual(wrong.loss, 10 * (1e5 - 1), accuracy: 1e-9)
        XCTAssertEqual(wrong.dPolicyChosen, -10)
    }

    func testEmptyCompletionsCountAsOneToken() throws {
        let loss = try DPOLoss(settings: LossSettings(types: [.ipo, .simpo, .sft]))
        let empty = PairLogProbs(policyChosen: -2, policyRejected: -3, chosenTokens: 0, rejectedTokens: 0)
        let one = PairLogProbs(policyChosen: -2, policyRejected: -3, chosenTokens: 1, rejectedTokens: 1)
        XCTAssertEqual(loss.pairLoss(empty), loss.pairLoss(one))
    }

    func testSimpoRewardsAreMeanLogProbsOnlyWithoutReference() throws {
        let simpo = try DPOLoss(settings: LossSettings(types: [.simpo, .sft], beta: 2)).pairLoss(pair)
        XCTAssertEqual(simpo.chosenReward, 2 * -12 / 6)
        XCTAssertEqual(simpo.rejectedReward, 2 * -15 / 8)
        let mixed = try DPOLoss(settings: LossSettings(types: [.simpo, .sigmoid], beta: 2)).pairLoss(pair)
        XCTAssertEqual(mixed.chosenReward, 2 * 1)
        XCTAssertEqual(mixed.rejectedReward, 2 * -1)
    }

    func testSftBatchNormaliserIsTheGlobalMeanLength() throws {
        let sft = try DPOLoss(settings: LossSettings(types: [.sft]))
        XCTAssertEqual(sft.pairLoss(pair).loss, 2)
        XCTAssertEqual(sft.pairLoss(pair, meanChosenTokens: 4).loss, 3)
        XCTAssertEqual(sft.pairLoss(pair, meanChosenTokens: 4).dPolicyChosen, -0.25)
        XCTAssertEqual(sft.pairLoss(pair, meanChosenTokens: 4).dPolicyRejected, 0)
    }
}
