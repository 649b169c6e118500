import Foundation
import GPT2
import XCTest

/// The base tiny GPT-2 with PEFT's starting adapter gives the summed completion log-probs PyTorch +
/// PEFT 0.21.2 computed (`Fixtures/lora/reference_logps.json`, from `scripts/make_lora_fixtures.py`),
/// and with the adapter off the base's: the same numbers the two reference rules of TRL need.
///
/// Tolerance 4ε·|sum| (ε = float32's 1.19e-7): each token's float32 log-prob is within about an ulp
/// of PyTorch's (ForwardParityTests observes one ulp on the base), the adapter's two products add
/// their own rounding of a term about 1% of the layer's output; all terms are negative, so the
/// errors add up to a few ε·|sum| (observed 1.1ε to 1.3ε, with and without the adapter). The adapter moves the sums by
/// 0.26 on average, so using it wrongly (or not at all) misses by far more.
final class LoRAForwardParityTests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }

    struct Pair: Decodable {
        let prompt_ids: [Int32], chosen_ids: [Int32], rejected_ids: [Int32]
    }

    struct Tokenized: Decodable { let pairs: [Pair] }

    struct Sums: Decodable { let chosen_logp: Double, rejected_logp: Double }
    struct Reference: Decodable {
        struct Entry: Decodable { let index: Int, base: Sums, base_plus_starting_adapter: Sums }
        let pairs: [Entry]
    }

    /// Every pair's prompt + chosen and prompt + rejected as separate sequences (positions from 0,
    /// as TRL's right-padded batch), a target at every completion token; returns the input and the
    /// sequence each target belongs to (2·pair for chosen, 2·pair + 1 for rejected).
    func completionInput(_ pairs: [Pair]) -> (GPT2Input, [Int]) {
        var input = GPT2Input(), owner: [Int] = []
        for (p, pair) in pairs.enumerated() {
            for (k, completion) in [pair.chosen_ids, pair.rejected_ids].enumerated() {
                let rows = input.appendSequence(pair.prompt_ids + completion)
                for (t, token) in completion.enumerated() {
                    input.addTarget(row: rows.lowerBound + pair.prompt_ids.count - 1 + t, token: token)
                    owner.append(2 * p + k)
                }
            }
        }
        return (input, owner)
    }

    func testStartingAdapterAndBaseMatchPEFT() throws {
        let base = try HFCheckpoint.load(from: fixtures.appendingPathComponent("trl/model"), trainable: false)
        let adapter = try PEFTAdapter.load(from: fixtures.appendingPathComponent("lora/starting_adapter"), config: base.config)
        let pairs = try JSONDecoder().decode(Tokenized.self, from: Data(contentsOf: fixtures.appendingPathComponent("trl/tokenized.json"))).pairs
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixtures.appendingPathComponent("lora/reference_logps.json"))).pairs
        XCTAssertEqual(reference.map(\.index), Array(pairs.indices))
        let (input, owner) = completionInput(pairs)
        for (name, model) in [("base", try GPT2Model(sharingWeightsOf: base, adapter: nil)),
                              ("base_plus_starting_adapter", try GPT2Model(sharingWeightsOf: base, adapter: adapter))] {
            let logp = try model.forward(input)
            var sums = [Double](repeating: 0, count: 2 * pairs.count)
            for (m, sequence) in owner.enumerated() { sums[sequence] += Double(logp[m]) }
            var worst = 0.0
            for entry in reference {
                let expected = name == "base" ? entry.base : entry.base_plus_starting_adapter
                for (ours, theirs) in [(sums[2 * entry.index], expected.chosen_logp), (sums[2 * entry.index + 1], expected.rejected_logp)] {
                    XCTAssertEqual(ours, theirs, accuracy: 4 * Double(Float.ulpOfOne) * abs(theirs), "\(name) pair \(entry.index)")
                    worst = max(worst, abs(ours - theirs) / abs(theirs))
                }
            }
            print("\(name): max relative deviation from PyTorch + PEFT \(worst)")
        }
    }
}
