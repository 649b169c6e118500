import DPO
import Foundation
import XCTest

/// Tests/DPOTests/Fixtures/losses.json, written by scripts/make_loss_fixtures.py from TRL 1.16's own
/// loss code (or, where we deliberately differ, from the formula in torch; see the script).
struct LossFixture: Decodable {
    /// One batch of pairs, its settings and what TRL computed for it.
    struct Case: Decodable {
        var name: String
        var settings: Settings
        var pairs: [Pair]
        var meanChosenTokens: Double?
        var expected: Expected
    }

    /// `LossSettings` in TRL's snake_case names.
    struct Settings: Decodable {
        var types: [LossType]
        var weights: [Double]
        var beta: Double
        var labelSmoothing: Double
        var simpoGamma: Double
        var referenceFree: Bool
        var discopopTau: Double?
        var fDivergenceType: FDivergence?
        var fAlphaDivergenceCoef: Double?
        var ldAlpha: Double?
        var useWeighting: Bool?
        /// TRL ran this case in float32 (its alpha_divergence clamp has no float64 entry).
        var float32: Bool?

        var lossSettings: LossSettings {
            LossSettings(types: types, weights: weights, beta: beta, labelSmoothing: labelSmoothing,
                         simpoGamma: simpoGamma, referenceFree: referenceFree, discopopTau: discopopTau ?? 0.05,
                         fDivergence: fDivergenceType ?? .reverseKL, fAlphaDivergenceCoef: fAlphaDivergenceCoef ?? 0.5,
                         ldAlpha: ldAlpha, useWeighting: useWeighting ?? false)
        }
    }

    /// Per-token log-probs of a pair (and log Σ_v p_v² at each token, for WPO).
    struct Tokens: Decodable {
        var policyChosen, policyRejected, referenceChosen, referenceRejected: [Double]
        var logSumSqChosen, logSumSqRejected: [Double]
    }

    /// One pair's summed log-probs and token counts.
    struct Pair: Decodable {
        var policyChosen, policyRejected, referenceChosen, referenceRejected: Double
        var chosenTokens, rejectedTokens: Int
        var tokens: Tokens?

        /// The loss's input: the sums as given, or built from the per-token log-probs by `loss`.
        func logProbs(_ loss: DPOLoss) -> PairLogProbs {
            guard let tokens else {
                return PairLogProbs(policyChosen: policyChosen, policyRejected: policyRejected,
                                    referenceChosen: referenceChosen, referenceRejected: referenceRejected,
                                    chosenTokens: chosenTokens, rejectedTokens: rejectedTokens)
            }
            return loss.pairLogProbs(
                policy: TokenRows(chosen: tokens.policyChosen, rejected: tokens.policyRejected),
                reference: .tokens(TokenRows(chosen: tokens.referenceChosen, rejected: tokens.referenceRejected)),
                logSumSquares: TokenRows(chosen: tokens.logSumSqChosen, rejected: tokens.logSumSqRejected))
        }
    }

    /// The batch-mean loss and rewards, and per-pair derivatives (torch.autograd × batch size): by
    /// the summed log-probs, or by each token's log-prob for per-token cases.
    struct Expected: Decodable {
        var source: String
        var loss: Double
        var dPolicyChosen: [Double]?
        var dPolicyRejected: [Double]?
        var dPolicyChosenTokens: [[Double]]?
        var dPolicyRejectedTokens: [[Double]]?
        var chosenReward: Double
        var rejectedReward: Double
    }

    var trlVersion: String
    var cases: [Case]

    /// Reads the committed fixture from the test bundle.
    static func load() throws -> LossFixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "losses", withExtension: "json",
                                                  subdirectory: "Fixtures"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(LossFixture.self, from: Data(contentsOf: url))
    }
}

/// `|actual − expected| ≤ relative·max(1, |expected|)`: absolute near 0, relative for large values.
func assertClose(_ actual: Double, _ expected: Double, relative: Double, _ message: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(abs(actual - expected), relative * max(1, abs(expected)),
                             "\(message()): got \(actual), expected \(expected)", file: file, line: line)
}

/// Whether two pairs tie in a quantity AOT sorts (policy log-ratio, chosen or rejected log-ratio).
func hasTies(_ pairs: [PairLogProbs]) -> Bool {
    let keys: [(PairLogProbs) -> Double] = [
        { $0.policyChosen - $0.policyRejected }, { $0.referenceChosen - $0.referenceRejected },
        { $0.policyChosen - $0.referenceChosen }, { $0.policyRejected - $0.referenceRejected },
    ]
    return keys.contains { key in Set(pairs.map(key)).count < pairs.count }
}
