import Foundation
import GPT2
import Safetensors
import XCTest

/// The fixtures written by `scripts/make_gpt2_fixtures.py` with PyTorch + `transformers`:
/// a 2-layer GPT-2 with the real 50,257-token vocabulary, four right-padded rows laid out as
/// [pair0 chosen, pair1 chosen, pair0 rejected, pair1 rejected], and what PyTorch computed.
struct ParityFixture {
    struct Inputs: Decodable {
        struct AdamWSettings: Decodable {
            let lr, beta1, beta2, eps, weight_decay, max_grad_norm: Double
            let steps: Int
        }
        struct Expected: Decodable {
            let logps: [Double]
            let loss: Double
            let grad_norm: [Double]
            let loss_per_step: [Double]
        }
        let input_ids: [[Int32]]
        let lengths: [Int]
        let prompt_lengths: [Int]
        let beta: Double
        let logit_rows: [[Int]]
        let adamw: AdamWSettings
        let no_decay: [String]
        let expected: Expected
    }

    let directory: URL
    let inputs: Inputs
    let expected: SafetensorsFile

    init() throws {
        directory = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        inputs = try JSONDecoder().decode(Inputs.self, from: Data(contentsOf: directory.appendingPathComponent("parity_inputs.json")))
        expected = try SafetensorsFile(contentsOf: directory.appendingPathComponent("parity_expected.safetensors"))
    }

    var rows: Int { inputs.input_ids.count }
    var seqLen: Int { inputs.input_ids[0].count }
    var pairs: Int { rows / 2 }

    /// Loads one of the fixture checkpoints (`tiny-gpt2` or `tiny-gpt2-f16`).
    func model(_ name: String, trainable: Bool = true) throws -> GPT2Model {
        try HFCheckpoint.load(from: directory.appendingPathComponent(name), trainable: trainable)
    }

    /// Scores each completion token: position t with prompt_length <= t < length is predicted
    /// by row position t - 1. Returns the input and, per target, the row it belongs to.
    func completionInput() -> (input: GPT2Input, owner: [Int]) {
        var targetRows: [Int32] = [], targets: [Int32] = [], owner: [Int] = []
        for b in 0..<rows {
            for t in inputs.prompt_lengths[b]..<inputs.lengths[b] {
                targetRows.append(Int32(b * seqLen + t - 1))
                targets.append(inputs.input_ids[b][t])
                owner.append(b)
            }
        }
        let input = GPT2Input(tokens: inputs.input_ids.flatMap { $0 }, batchSize: rows, seqLen: seqLen,
                              targetRows: targetRows, targets: targets)
        return (input, owner)
    }

    /// Max |ours − reference| / max |reference|: relative to the tensor's scale, so entries
    /// near zero do not dominate.
    static func relativeError(_ ours: [Float], _ reference: [Float]) -> Double {
        precondition(ours.count == reference.count)
        let scale = reference.map { abs(Double($0)) }.max() ?? 0
        let worst = zip(ours, reference).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return worst / scale
    }

    /// ‖ours − reference‖ / ‖reference‖ (per-tensor norm of the difference over the norm).
    static func normRelativeError(_ ours: UnsafeBufferPointer<Float>, _ reference: [Float]) -> Double {
        precondition(ours.count == reference.count)
        var diff = 0.0, norm = 0.0
        for (a, b) in zip(ours, reference) {
            diff += (Double(a) - Double(b)) * (Double(a) - Double(b))
            norm += Double(b) * Double(b)
        }
        return (diff / norm).squareRoot()
    }
}
