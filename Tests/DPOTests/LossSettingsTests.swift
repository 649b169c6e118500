import DPO
import Foundation
import XCTest

/// Validation, defaults and the reference bookkeeping of `LossSettings`.
final class LossSettingsTests: XCTestCase {
    func testLossTypeNamesAreTRLs() {
        XCTAssertEqual(LossType.allCases.map(\.rawValue),
                       ["sigmoid", "robust", "hinge", "ipo", "sigmoid_norm", "sppo_hard", "nca_pair", "bco_pair",
                        "apo_zero", "apo_down", "sft", "simpo", "exo_pair", "aot", "aot_unpaired", "discopop", "orpo",
                        "token_pair"])
        XCTAssertEqual(FDivergence.allCases.map(\.rawValue), ["reverse_kl", "forward_kl", "js_divergence", "alpha_divergence"])
    }

    func testDefaultsAreTRLs() throws {
        let settings = LossSettings()
        XCTAssertEqual(settings.types, [.sigmoid])
        XCTAssertEqual(settings.weights, [1])
        XCTAssertEqual(settings.beta, 0.1)
        XCTAssertEqual(settings.labelSmoothing, 0)
        XCTAssertEqual(settings.simpoGamma, 0.5)
        XCTAssertFalse(settings.referenceFree)
        XCTAssertEqual(settings.discopopTau, 0.05)
        XCTAssertEqual(settings.fDivergence, .reverseKL)
        XCTAssertEqual(settings.fAlphaDivergenceCoef, 0.5)
        XCTAssertNil(settings.ldAlpha)
        XCTAssertFalse(settings.useWeighting)
        XCTAssertEqual(LossSettings(types: [.ipo, .sft]).weights, [1, 1])
        XCTAssertNoThrow(try settings.validate())
    }

    func testInvalidSettingsAreRefusedWithTheirReason() {
        let cases: [(LossSettings, LossSettingsError)] = [
            (LossSettings(types: []), .noLossTypes),
            (LossSettings(types: [.sigmoid, .sft, .sigmoid]), .duplicateLossType(.sigmoid)),
            (LossSettings(types: [.sigmoid, .sft], weights: [1]), .weightCountMismatch(types: 2, weights: 1)),
            (LossSettings(types: [.sigmoid], weights: [.nan]), .nonFiniteWeight(.nan)),
            (LossSettings(beta: 0), .nonPositiveBeta(0)),
            (LossSettings(beta: -0.1), .nonPositiveBeta(-0.1)),
            (LossSettings(beta: .infinity), .nonPositiveBeta(.infinity)),
            (LossSettings(labelSmoothing: 0.5), .labelSmoothingOutOfRange(0.5)),
            (LossSettings(labelSmoothing: -0.01), .labelSmoothingOutOfRange(-0.01)),
            (LossSettings(types: [.hinge, .ipo], labelSmoothing: 0.1), .labelSmoothingUnused([.hinge, .ipo])),
            (LossSettings(types: [.simpo], simpoGamma: -1), .negativeSimpoGamma(-1)),
            (LossSettings(types: [.exoPair]), .exoNeedsLabelSmoothing),
            (LossSettings(types: [.discopop], discopopTau: 0), .nonPositiveDiscopopTau(0)),
            (LossSettings(types: [.discopop], discopopTau: .nan), .nonPositiveDiscopopTau(.nan)),
            (LossSettings(types: [.sigmoid, .bcoPair], fDivergence: .forwardKL), .fDivergenceUnsupported(.forwardKL, .bcoPair)),
            (LossSettings(types: [.aot], fDivergence: .jsDivergence), .fDivergenceUnsupported(.jsDivergence, .aot)),
            (LossSettings(fDivergence: .alphaDivergence, fAlphaDivergenceCoef: 0), .nonPositiveAlphaCoefficient(0)),
            (LossSettings(ldAlpha: 1.5), .ldAlphaOutOfRange(1.5)),
            (LossSettings(ldAlpha: -0.1), .ldAlphaOutOfRange(-0.1)),
            (LossSettings(types: [.tokenPair], ldAlpha: 0.5), .ldAlphaWithTokenPair),
            (LossSettings(types: [.sigmoid, .aotUnpaired], useWeighting: true), .weightingUnsupported(.aotUnpaired)),
            (LossSettings(types: [.sigmoid, .sft], useWeighting: true), .weightingUnsupported(.sft)),
        ]
        for (settings, expected) in cases {
            XCTAssertThrowsError(try settings.validate(), "\(expected)") { error in
                let error = error as? LossSettingsError
                // NaN never equals itself, so compare the messages, which carry every payload.
                XCTAssertEqual(error.map(String.init(describing:)), String(describing: expected))
            }
            XCTAssertThrowsError(try DPOLoss(settings: settings))
        }
    }

    func testErrorMessagesNameTheOption() {
        XCTAssertTrue(LossSettingsError.nonPositiveBeta(0).description.hasPrefix("beta must be"))
        XCTAssertTrue(LossSettingsError.weightCountMismatch(types: 2, weights: 3).description
            .contains("3 weight(s) given for 2 loss type(s)"))
        XCTAssertTrue(LossSettingsError.labelSmoothingUnused([.hinge]).description.contains("sigmoid, robust, simpo, exo_pair, aot, aot_unpaired"))
        XCTAssertTrue(LossSettingsError.fDivergenceUnsupported(.forwardKL, .aot).description
            .hasPrefix("f_divergence_type forward_kl does not apply to loss aot"))
        XCTAssertTrue(LossSettingsError.exoNeedsLabelSmoothing.description.contains("label_smoothing > 0"))
        XCTAssertTrue(LossSettingsError.noLossTypes.description.contains("sigmoid_norm"))
    }

    func testSmoothingIsAcceptedWhenAnyLossUsesIt() {
        XCTAssertNoThrow(try LossSettings(types: [.hinge, .robust], labelSmoothing: 0.1).validate())
        XCTAssertNoThrow(try LossSettings(types: [.simpo, .sft], labelSmoothing: 0.49).validate())
    }

    func testNeedsReference() {
        XCTAssertTrue(LossSettings().needsReference)
        XCTAssertTrue(LossSettings(types: [.sft, .bcoPair]).needsReference)
        XCTAssertFalse(LossSettings(types: [.sft]).needsReference)
        XCTAssertFalse(LossSettings(types: [.simpo, .sft]).needsReference)
        XCTAssertFalse(LossSettings(types: [.orpo]).needsReference)
        XCTAssertTrue(LossSettings(types: [.tokenPair]).needsReference)
        XCTAssertFalse(LossSettings(types: [.sigmoid, .ipo], referenceFree: true).needsReference)
    }

    func testCodableRoundTrip() throws {
        let settings = LossSettings(types: [.robust, .sft], weights: [1, 0.2], beta: 0.3, labelSmoothing: 0.1,
                                    simpoGamma: 1, referenceFree: true, discopopTau: 0.2, fDivergence: .jsDivergence,
                                    fAlphaDivergenceCoef: 0.7, ldAlpha: 0.25, useWeighting: true)
        let decoded = try JSONDecoder().decode(LossSettings.self, from: JSONEncoder().encode(settings))
        XCTAssertEqual(decoded, settings)
    }
}
