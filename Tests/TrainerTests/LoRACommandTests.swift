import DPO
import Foundation
import GPT2
import TestSupport
import XCTest

/// The built commands that take a PEFT adapter (docs/lora.md): `merge-adapter`, and `--adapter`
/// on `logps` and `generate`, `eval` of an adapter directory, against PEFT's own numbers in
/// `Fixtures/lora` (the tiny GPT-2 of `Fixtures/trl/model` and a starting adapter with non-zero B).
final class LoRACommandTests: XCTestCase {
    var fixtures: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures") }
    var base: URL { fixtures.appendingPathComponent("trl/model") }
    var adapter: URL { fixtures.appendingPathComponent("lora/starting_adapter") }
    var pairs: URL { fixtures.appendingPathComponent("trl/pairs.jsonl") }

    func run(_ arguments: [String]) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, arguments, environment: ProcessInfo.processInfo.environment, timeout: 120)
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lora-commands-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Logits at every position of two fixed sequences (ordinary ids, a long id, EOS).
    func logits(_ model: GPT2Model) throws -> [Float] {
        var input = GPT2Input()
        let sequences: [[Int32]] = [[15496, 995, 11, 314, 1101, 257, 1332, 286, 262, 6152, 13, 50256],
                                    [464, 3139, 286, 4881, 318, 6342, 13, 220, 40, 1842, 50000, 50256]]
        for tokens in sequences {
            let rows = input.appendSequence(tokens)
            for row in rows { input.addTarget(row: row, token: 0) }
        }
        try model.forward(input)
        return (0..<input.targets.count).flatMap { Array(model.logits(target: $0)) }
    }

    /// The merged checkpoint computes what base + adapter computes. Merged, each adapted weight is
    /// rounded once to float32 after W + scaling·(BA)ᵀ (|W| ~ 0.02-0.2 here), where the adapter
    /// model adds scaling·(x Aᵀ) Bᵀ to x W: the two differ by float32 rounding of sums over at most
    /// 4·C = 128 terms per layer, a few ulps (eps = 1.19e-7) of each sum, carried through 2
    /// blocks and the LM head. 1e-5 of the largest |logit| (about 100 ulps) bounds it; the
    /// adapter itself moves the logits by far more (checked: a merge that did nothing fails).
    func testMergedCheckpointComputesTheAdapterModel() throws {
        let out = try temporaryDirectory().appendingPathComponent("merged")
        let outcome = try run(["merge-adapter", "--model", base.path, "--adapter", adapter.path, "--output", out.path])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(names, ["config.json", "merges.txt", "model.safetensors", "vocab.json"],
                       "a plain checkpoint with the tokenizer files (the base has none: GPT-2's bundled ones)")
        let baseModel = try HFCheckpoint.load(from: base, trainable: false)
        let adapted = try GPT2Model(sharingWeightsOf: baseModel, adapter: PEFTAdapter.load(from: adapter, config: baseModel.config))
        let merged = try logits(HFCheckpoint.load(from: out, trainable: false))
        let expected = try logits(adapted), plain = try logits(baseModel)
        let scale = expected.map(abs).max()!
        let error = zip(merged, expected).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(error, 1e-5 * scale, "max |merged - adapter model| over max |logit| \(scale)")
        let moved = zip(plain, expected).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(moved, 100 * 1e-5 * scale, "the adapter must change the logits for this test to see a merge")
    }

    /// Bad inputs fail with the file or option and the cause, and leave no OUT (nor a hidden partial one).
    func testMergeAdapterRefusesBadInputsAndWritesNothing() throws {
        let scratch = try temporaryDirectory()
        let otherShape = scratch.appendingPathComponent("tiny")
        let tiny = try GPT2Model(config: GPT2Config.named("gpt2-tiny")!, trainable: false)
        try HFCheckpoint.save(tiny, to: otherShape)
        let out = scratch.appendingPathComponent("out")
        let cases: [(arguments: [String], message: String)] = [
            (["--model", otherShape.path, "--adapter", adapter.path],
             adapter.appendingPathComponent("adapter_model.safetensors").path),
            (["--model", base.path, "--adapter", scratch.appendingPathComponent("none").path],
             scratch.appendingPathComponent("none/adapter_config.json").path),
            (["--model", "gpt2-tiny", "--adapter", adapter.path], "--model gpt2-tiny is a size name"),
        ]
        for (arguments, message) in cases {
            let outcome = try run(["merge-adapter"] + arguments + ["--output", out.path])
            XCTAssertNotEqual(outcome.status, 0, outcome.output)
            XCTAssertTrue(outcome.output.contains(message), "«\(outcome.output)» should name «\(message)»")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted(), ["tiny"],
                           "nothing written for \(arguments)")
        }
        let shapeError = try run(["merge-adapter", "--model", otherShape.path, "--adapter", adapter.path, "--output", out.path])
        XCTAssertTrue(shapeError.output.contains("[4, 32]") && shapeError.output.contains("[4, 64]"),
                      "the mis-shaped tensor's shapes: \(shapeError.output)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: out.appendingPathComponent("mine.txt"))
        let existing = try run(["merge-adapter", "--model", base.path, "--adapter", adapter.path, "--output", out.path])
        XCTAssertNotEqual(existing.status, 0)
        XCTAssertTrue(existing.output.contains("--output \(out.path) exists"), existing.output)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), ["mine.txt"], "an existing OUT is left alone")
    }

    /// `logps --adapter` scores with base + adapter: PEFT's summed completion log-probs of the 16
    /// fixture pairs (`reference_logps.json`). Both sum ~30-140 float32 log-probs in different
    /// orders: 1e-5 relative is about 100 ulps of each sum, far below what the adapter changes
    /// (0.26 nats per sequence on average, at least 1.8e-5 relative on every sequence but a few).
    func testLogpsWithAnAdapterMatchPEFT() throws {
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("lora/reference_logps.json")))
        let expected = try XCTUnwrap((reference as? [String: Any])?["pairs"] as? [[String: Any]])
        for (flags, key) in [(["--adapter", adapter.path], "base_plus_starting_adapter"), ([], "base")] {
            let outcome = try run(["logps", "--model", base.path, "--data", pairs.path, "--max-length", "128"] + flags)
            XCTAssertEqual(outcome.status, 0, outcome.output)
            let rows = outcome.output.split(separator: "\n").filter { $0.hasPrefix("{") }
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            XCTAssertEqual(rows.count, 16)
            for row in rows {
                let pair = try XCTUnwrap(row["pair"] as? Int), want = try XCTUnwrap(expected[pair][key] as? [String: Double])
                for field in ["chosen_logp", "rejected_logp"] {
                    let have = try XCTUnwrap(row[field] as? Double), value = try XCTUnwrap(want[field])
                    XCTAssertEqual(have, value, accuracy: 1e-5 * abs(value), "\(key) pair \(pair) \(field)")
                }
            }
        }
    }

    /// `generate --adapter --greedy` picks, at every step, the most likely token of base + adapter
    /// (the adapter model's own forward pass, not the merge generate runs on): the chosen token's
    /// logit is the largest up to 1e-5 of the largest |logit| (the merge's rounding, as above).
    func testGreedyGenerationFollowsTheAdapterModel() throws {
        let outcome = try run(["generate", "--model", base.path, "--adapter", adapter.path, "--prompt", "The meaning of life is",
                               "--greedy", "--max-new-tokens", "8"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let text = try XCTUnwrap(outcome.output.split(separator: "\n").first.map(String.init))
        let tokenizer = try RunInputs.tokenizer(RunInputs.tokenizerFiles(explicit: nil, model: base.path))
        let prompt = tokenizer.encode("The meaning of life is"), all = tokenizer.encode(text)
        XCTAssertEqual(Array(all.prefix(prompt.count)), prompt, text)
        let generated = Array(all.dropFirst(prompt.count))
        XCTAssertGreaterThan(generated.count, 0, text)
        let baseModel = try HFCheckpoint.load(from: base, trainable: false)
        let adapted = try GPT2Model(sharingWeightsOf: baseModel, adapter: PEFTAdapter.load(from: adapter, config: baseModel.config))
        var input = GPT2Input()
        let rows = input.appendSequence(all)
        for row in rows.dropFirst(prompt.count - 1).dropLast() { input.addTarget(row: row, token: 0) }
        try adapted.forward(input)
        for (i, token) in generated.enumerated() {
            let logits = adapted.logits(target: i), best = logits.max()!
            XCTAssertGreaterThanOrEqual(logits[Int(token)], best - 1e-5 * logits.map(abs).max()!, "token \(i) of «\(text)»")
        }
    }

    /// `bench --lora-r 16 --compare-full` on gpt2-tiny (C = 64, L = 2) runs both configurations
    /// and reports each one's gradient: 16·r·C·L = 32,768 adapter floats (131,072 B in fp32)
    /// against the model's 3,332,928 (13,331,712 B); the options that need --lora-r are refused without it.
    func testBenchComparesLoRAWithFullFineTuning() throws {
        let outcome = try run(["bench", "--model", "gpt2-tiny", "--lora-r", "16", "--compare-full", "--no-baseline",
                               "--steps", "1", "--warmup", "0", "--prompt-tokens", "8", "--completion-tokens", "8"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let line = try XCTUnwrap(outcome.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(json["gradient_elements"] as? Int, 32_768)
        XCTAssertEqual(json["allreduce_payload_bytes"] as? Int, 131_072)
        let full = try XCTUnwrap(json["full_model"] as? [String: Any])
        XCTAssertEqual(full["gradient_elements"] as? Int, 3_332_928)
        XCTAssertEqual(full["allreduce_payload_bytes"] as? Int, 13_331_712)
        XCTAssertEqual(full["optimizer_state_bytes"] as? Int, 8 * 3_332_928)
        XCTAssertEqual(json["optimizer_state_bytes"] as? Int, 8 * 32_768)
        XCTAssertNotNil(json["full_over_lora_seconds"] as? Double)
        XCTAssertTrue(outcome.output.contains("dpo-ddp full fine-tuning"), outcome.output)
        // Without --compare-full (a model whose full fine-tuning would not fit) the full model's
        // all-reduce is still shown next to the adapter's: every parameter's gradient, 4 B each.
        let alone = try run(["bench", "--model", "gpt2-tiny", "--lora-r", "16", "--no-baseline",
                             "--steps", "1", "--warmup", "0", "--prompt-tokens", "8", "--completion-tokens", "8"])
        XCTAssertEqual(alone.status, 0, alone.output)
        let aloneLine = try XCTUnwrap(alone.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let aloneJSON = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(aloneLine.utf8)) as? [String: Any])
        XCTAssertEqual(aloneJSON["full_model_payload_bytes"] as? Int, 13_331_712)
        XCTAssertTrue(alone.output.contains("full fine-tuning of this model would sum 13.33 MB per step (102x the adapter's)"),
                      alone.output)
        for flags in [["--compare-full"], ["--lora-alpha", "8"]] {
            let refused = try run(["bench", "--model", "gpt2-tiny"] + flags)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.output.contains("--lora-alpha, --lora-targets and --compare-full need --lora-r"), refused.output)
        }
    }

    /// `eval --policy ADAPTER_DIR`: the policy is the base + that adapter; the reference follows
    /// TRL: the base for a fresh run, so rewards = β·(policy − base log-probs) as PEFT computed
    /// them (means over 16 pairs, 1.2e-3 and 1.8e-3; each log-prob sum within 1e-6 relative of
    /// PEFT's, about 8 ulps where 1.1e-7 is measured, and |log-prob| <= 304, so a reward within
    /// 0.1·2·1e-6·304 = 6.1e-5, absolute since a mean of differences can be near zero); and with
    /// `--adapter` (a continued run) base + the starting adapter, equal to the policy, so every
    /// reward is exactly 0 and the loss ln 2.
    func testEvalOfAnAdapterPolicyUsesTRLsReference() throws {
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("lora/reference_logps.json")))
        let expected = try XCTUnwrap((reference as? [String: Any])?["pairs"] as? [[String: Any]])
        func mean(_ field: String) -> Double {
            expected.map { pair in
                let adapted = pair["base_plus_starting_adapter"] as! [String: Double], plain = pair["base"] as! [String: Double]
                return 0.1 * (adapted[field]! - plain[field]!)
            }.reduce(0, +) / Double(expected.count)
        }
        let output = try temporaryDirectory().appendingPathComponent("run")
        let common = ["eval", "--policy", adapter.path, "--model", base.path, "--data", pairs.path, "--max-length", "128",
                      "--beta", "0.1", "--batch-size", "16", "--output-dir", output.path]
        func metrics(_ extra: [String]) throws -> [String: Double] {
            let outcome = try run(common + extra)
            XCTAssertEqual(outcome.status, 0, outcome.output)
            let line = try XCTUnwrap(outcome.output.split(separator: "\n").last { $0.hasPrefix("{") })
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])
        }
        let fresh = try metrics([])
        for (metric, field) in [("eval_rewards/chosen", "chosen_logp"), ("eval_rewards/rejected", "rejected_logp")] {
            let want = mean(field)
            XCTAssertEqual(try XCTUnwrap(fresh[metric]), want, accuracy: 6.1e-5, metric)
        }
        let continued = try metrics(["--adapter", adapter.path])
        XCTAssertEqual(continued["eval_rewards/chosen"], 0)
        XCTAssertEqual(continued["eval_rewards/rejected"], 0)
        XCTAssertEqual(try XCTUnwrap(continued["eval_loss"]), log(2), accuracy: 1e-7)
    }
}
