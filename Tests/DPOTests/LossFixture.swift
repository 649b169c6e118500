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

        var lossSettings: LossSettings {
            LossSettings(types: types, weights: weights, beta: beta, labelSmoothing: labelSmoothing,
                         simpoGamma: simpoGamma, referenceFree: referenceFree)
        }
    }

    /// One pair's summed log-probs and token counts.
    struct Pair: Decodable {
        var policyChosen, policyRejected, referenceChosen, referenceRejected: Double
        var chosenTokens, rejectedTokens: Int

        var logProbs: PairLogProbs {
            PairLogProbs(policyChosen: policyChosen, policyRejected: policyRejected,
                         referenceChosen: referenceChosen, referenceRejected: referenceRejected,
                         chosenTokens: chosenTokens, rejectedTokens: rejectedTokens)
        }
    }

    /// The batch-mean loss and rewards, and per-pair derivatives (torch.autograd × batch size).
    struct Expected: Decodable {
        var source: String
        var loss: Double
        var dPolicyChosen: [Double]
        var dPolicyRejected: [Double]
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
