import GPT2
import XCTest

/// Forward pass against PyTorch `GPT2LMHeadModel` (eager attention, float32).
///
/// Tolerances (float32 ε = 1.19e-7): logits ≤ 1e-6 (≈ 8ε) relative to their largest magnitude: a
/// 2-layer forward rounds in other orders than PyTorch's, observed 1.9e-7 to 2.3e-7 with the
/// Haswell, SkylakeX and Cooperlake kernels. Summed completion log-probabilities within
/// 2ε·|sum|: each token's float32 log-prob is within about an ulp (ε times its size) on either
/// side, and all are negative, so their errors add up to at most ~2ε·Σ|log p| = 2ε·|sum| (observed
/// one token's ulp, 9.5e-7 on sums of 43-119). A wrong epsilon, scale, mask or GELU variant moves
/// logits by 1e-3 or more.
final class ForwardParityTests: XCTestCase {
    func logitsAtFixtureRows(_ model: GPT2Model, _ fixture: ParityFixture) throws -> [Float] {
        let tokens = fixture.inputs.input_ids.flatMap { $0 }
        let rows = fixture.inputs.logit_rows.map { Int32($0[0] * fixture.seqLen + $0[1]) }
        let input = GPT2Input(tokens: tokens, batchSize: fixture.rows, seqLen: fixture.seqLen,
                              targetRows: rows, targets: rows.map { _ in 0 })
        try model.forward(input)
        return (0..<rows.count).flatMap { Array(model.logits(target: $0)) }
    }

    func testLogitsMatchPyTorch() throws {
        let fixture = try ParityFixture()
        let logits = try logitsAtFixtureRows(try fixture.model("tiny-gpt2"), fixture)
        let error = ParityFixture.relativeError(logits, try fixture.expected.floats("logits"))
        print("logits against PyTorch: max |Δ| / max |logit| = \(error)")
        XCTAssertLessThanOrEqual(error, 1e-6)
    }

    func testFloat16CheckpointLogitsMatchPyTorch() throws {
        let fixture = try ParityFixture()
        let logits = try logitsAtFixtureRows(try fixture.model("tiny-gpt2-f16"), fixture)
        let error = ParityFixture.relativeError(logits, try fixture.expected.floats("f16_logits"))
        print("F16 checkpoint logits against PyTorch: max |Δ| / max |logit| = \(error)")
        XCTAssertLessThanOrEqual(error, 1e-6)
        // The F16 weights really are different numbers: the F32 logits must not match as well.
        let f32Error = ParityFixture.relativeError(logits, try fixture.expected.floats("logits"))
        XCTAssertGreaterThan(f32Error, 10 * error)
    }

    func testSummedCompletionLogProbsMatchPyTorch() throws {
        let fixture = try ParityFixture()
        let model = try fixture.model("tiny-gpt2", trainable: false)
        let (input, owner) = fixture.completionInput()
        let logp = try model.forward(input)
        var sums = [Double](repeating: 0, count: fixture.rows)
        for (m, row) in owner.enumerated() { sums[row] += Double(logp[m]) }
        for (ours, reference) in zip(sums, fixture.inputs.expected.logps) {
            XCTAssertEqual(ours, reference, accuracy: 2 * Double(Float.ulpOfOne) * abs(reference))
        }
    }
}
