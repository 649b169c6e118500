import DPO
import Distributed
import Foundation
import GPT2
import PreferenceData
import RunReport
import TestSupport
import Tokenizer
import XCTest

extension TinyRun {
    /// Ten alpaca rows beside the tiny run's standard pairs (another format in the same run).
    func writeAlpaca() throws -> URL {
        let url = directory.appendingPathComponent("alpaca.json")
        let rows = (0..<10).map { ["instruction": "Name colour \($0).", "input": $0 % 2 == 0 ? "" : "Be brief.",
                                   "chosen": "Blue \($0).", "rejected": "I refuse."] }
        try JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys]).write(to: url)
        return url
    }
}

/// Several data files, `val_size` and `max_samples` in a training run: what is refused before any
/// work, what is trained on, what is recorded and what a resumed run reuses.
final class DataWorkflowRunTests: XCTestCase {
    func testContradictoryDataSettingsAreRefusedBeforeAnyWork() throws {
        let run = try TinyRun()
        let alpaca = try run.writeAlpaca()
        func refused(_ change: (inout TrainingConfig) -> Void, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try run.config(output: "x", change).validate(worldSize: 1), line: line) {
                XCTAssertTrue("\($0)".contains(fragment), "«\($0)» should contain «\(fragment)»", line: line)
            }
        }
        let two = run.dataURL.path + "," + alpaca.path
        refused({ $0.data = two; $0.mixStrategy = .interleaveUnder; $0.interleaveProbs = [0.2, 0.3, 0.5] },
                "interleave_probs has 3 entries, but data names 2 files")
        refused({ $0.data = two; $0.interleaveProbs = [0.5, 0.5] }, "interleave_probs needs mix_strategy interleave_under or interleave_over")
        refused({ $0.data = two; $0.mixStrategy = .interleaveUnder; $0.interleaveProbs = [0.5, 0.6] }, "interleave_probs must sum to 1")
        refused({ $0.data = two; $0.mixStrategy = .interleaveOver; $0.interleaveProbs = [1, 0] },
                "interleave_over never ends when a file is never drawn: interleave_probs gives \(alpaca.path) probability 0")
        refused({ $0.data = run.dataURL.path + ",/nonexistent/b.jsonl" }, "data: /nonexistent/b.jsonl does not exist")
        refused({ $0.valSize = 0.1; $0.evalData = run.dataURL.path }, "val_size and eval_data conflict")
        refused({ $0.valSize = 2.5 }, "val_size must be a fraction in (0, 1) or a whole number of pairs >= 1, got 2.5")
        refused({ $0.valSize = 0 }, "val_size must be a fraction")
        refused({ $0.maxSamples = 0 }, "max_samples must be >= 1")
        refused({ $0.generateDuringEval = 2 }, "generate_during_eval needs eval prompts: set eval_data or val_size")
        refused({ $0.generateDuringEval = 2; $0.valSize = 4; $0.maxNewTokens = 0 }, "max_new_tokens must be >= 1")
        // Known only once the data is read, still before any model is loaded or step taken:
        XCTAssertThrowsError(try TrainingRun.prepare(config: run.config(output: "x") { $0.valSize = 24 }, communicator: LocalCommunicator())) {
            XCTAssertEqual("\($0)", "val_size 24 holds out 24 of the 24 pairs of data, leaving none to train on: lower val_size")
        }
    }

    /// Two files of two formats, oversampled alternately (interleave_over: 24 rounds of one pair of
    /// each, the 10 alpaca pairs starting over), train; the summary reports each file and the mix.
    func testTwoFormatsMixedTrain() throws {
        let run = try TinyRun()
        let alpaca = try run.writeAlpaca()
        let config = run.config(output: "mixed") {
            $0.data = run.dataURL.path + "," + alpaca.path
            $0.mixStrategy = .interleaveOver
            $0.maxSteps = 3
        }
        try config.validate(worldSize: 1)
        let (trainer, summary) = try TrainingRun.prepare(config: config, communicator: LocalCommunicator())
        XCTAssertTrue(summary[0].hasPrefix("train data \(run.dataURL.path): 24 rows (standard), 24 pairs;"), summary[0])
        XCTAssertTrue(summary[1].hasPrefix("train data \(alpaca.path): 10 rows (alpaca), 10 pairs;"), summary[1])
        XCTAssertEqual(summary[2], "train data mixed from 2 files (interleave_over): 48 pairs (24 from pairs.jsonl, 24 from alpaca.json)")
        let outcome = try trainer.run()
        XCTAssertEqual(outcome.step, 3)
        let records = try TinyRun.records(URL(fileURLWithPath: config.outputDir))
        XCTAssertEqual(records.compactMap { $0["loss"] as? Double }.filter(\.isFinite).count, 3)
    }

    /// max_samples caps each file before the mix: 5 + 5 pairs concatenated.
    func testMaxSamplesCapsEachFileBeforeTheMix() throws {
        let run = try TinyRun()
        let alpaca = try run.writeAlpaca()
        let config = run.config(output: "capped") { $0.data = run.dataURL.path + "," + alpaca.path; $0.maxSamples = 5 }
        let (_, summary) = try TrainingRun.prepare(config: config, communicator: LocalCommunicator())
        XCTAssertTrue(summary[0].contains("24 rows (standard), first 5 used (max_samples), 5 pairs;"), summary[0])
        XCTAssertTrue(summary[1].contains("10 rows (alpaca), first 5 used (max_samples), 5 pairs;"), summary[1])
        XCTAssertEqual(summary[2], "train data mixed from 2 files (concat): 10 pairs (5 from pairs.jsonl, 5 from alpaca.json)")
    }

    /// A recorded split is used as recorded (not drawn again from the seed): the eval pairs are
    /// those it names, the train pairs the rest, in order.
    func testRecordedSplitIsUsedAsRecorded() throws {
        let run = try TinyRun()
        let config = run.config(output: "x") { $0.valSize = 0.25 }
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let drawn = try RunDataSets.load(config: config, tokenizer: tokenizer)
        XCTAssertEqual(drawn.split?.evalPairs.count, 6)
        let recorded = DataSplit(valSize: 0.25, seed: config.seed, pairs: 24, evalPairs: [0, 5, 6, 7, 8, 23])
        XCTAssertNotEqual(drawn.split?.evalPairs, recorded.evalPairs)
        let sets = try RunDataSets.load(config: config, tokenizer: tokenizer, recorded: recorded)
        let all = try RunInputs.dataset(run.dataURL.path, config: config, tokenizer: tokenizer).pairs
        XCTAssertEqual(sets.eval?.pairs.map(\.line), recorded.evalPairs.map { all[$0].line })
        XCTAssertEqual(sets.train.pairs.map(\.line), all.indices.filter { !recorded.evalPairs.contains($0) }.map { all[$0].line })
        XCTAssertEqual(sets.split, recorded)
    }

    /// val_size: the split is written to the run directory; a run stopped and resumed logs what
    /// the uninterrupted run logged (eval metrics over the same held-out pairs included); a
    /// recorded split that does not fit the data is refused on resume, so the record is what
    /// resume reads.
    func testValSizeSplitIsRecordedAndResumed() throws {
        let run = try TinyRun()
        let common: (inout TrainingConfig) -> Void = { $0.valSize = 8; $0.evalSteps = 2; $0.maxSteps = 4; $0.saveSteps = 2 }
        let whole = try run.train(run.config(output: "whole", common))
        XCTAssertEqual(whole.records.filter { $0["eval_loss"] != nil }.count, 2)
        let split = try XCTUnwrap(try DataSplit.read(in: run.directory.appendingPathComponent("whole")))
        XCTAssertEqual(split.evalPairs.count, 8)
        XCTAssertEqual(split.pairs, 24)

        try run.train(run.config(output: "part") { common(&$0); $0.maxSteps = 2 })
        let resumed = try run.train(run.config(output: "part", common), resume: "latest")
        assertSameMetrics(resumed.records, whole.records, tolerance: 0)
        XCTAssertEqual(try DataSplit.read(in: run.directory.appendingPathComponent("part")), split)

        let part = run.directory.appendingPathComponent("part")
        try DataSplit(valSize: 8, seed: 3, pairs: 30, evalPairs: Array(0..<8)).write(in: part)
        XCTAssertThrowsError(try run.train(run.config(output: "part") { common(&$0); $0.maxSteps = 6 }, resume: "latest")) {
            XCTAssertTrue("\($0)".contains("the recorded data_split.json holds out pairs of 30 pairs, but data now gives 24"), "\($0)")
        }
    }
}

/// `generate_during_eval`: at every evaluation, the greedy completions of the first N eval prompts
/// by the policy and the reference go to samples.jsonl, and a resumed run's file reads like an
/// uninterrupted run's.
final class EvalSamplesRunTests: XCTestCase {
    func samples(_ output: URL) throws -> [[String: Any]] {
        try String(contentsOf: output.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Greedy continuation of `prompt` by the model in `directory`, computed here with the generator
    /// directly (token by token argmax, without the trainer).
    func greedy(_ directory: URL, _ prompt: [Int32], maxNewTokens: Int) throws -> [Int32] {
        let model = try HFCheckpoint.load(from: directory, trainable: false)
        let generator = try GPT2Generator(model: model, capacity: prompt.count + maxNewTokens)
        var tokens: [Int32] = []
        var logits = try generator.prefill(prompt)
        while tokens.count < maxNewTokens {
            let next = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
            tokens.append(next)
            if next == 50256 { break }
            logits = try generator.step(next)
        }
        return tokens
    }

    func testSamplesAtEveryEvaluationArePolicyAndReferenceGreedyCompletions() throws {
        let run = try TinyRun()
        let common: (inout TrainingConfig) -> Void = {
            $0.valSize = 8; $0.evalSteps = 2; $0.maxSteps = 4; $0.saveSteps = 2; $0.generateDuringEval = 3; $0.maxNewTokens = 6
            $0.learningRate = 0.05
        }
        let config = run.config(output: "whole", common)
        try run.train(config)
        let output = URL(fileURLWithPath: config.outputDir)
        let lines = try samples(output)
        XCTAssertEqual(lines.map { $0["step"] as? Int }, [2, 2, 2, 4, 4, 4])
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let eval = try XCTUnwrap(try RunDataSets.load(config: config, tokenizer: tokenizer).eval)
        for (i, line) in lines.enumerated() {
            let pair = eval.pairs[i % 3]
            let prompt = Array(pair.chosen.ids[..<pair.chosen.promptLength])
            XCTAssertEqual(line["prompt"] as? String, try tokenizer.decode(prompt))
            XCTAssertEqual(line["line"] as? Int, pair.line)
            func shown(_ ids: [Int32]) throws -> String { try tokenizer.decode(ids.last == 50256 ? Array(ids.dropLast()) : ids) }
            let reference = try greedy(run.modelDirectory, prompt, maxNewTokens: 6)
            XCTAssertEqual(line["reference"] as? String, try shown(reference), "the reference is the starting model")
            XCTAssertEqual(line["reference_tokens"] as? Int, reference.count)
            if line["step"] as? Int == 4 {
                let policy = try greedy(output.appendingPathComponent("final"), prompt, maxNewTokens: 6)
                XCTAssertEqual(line["policy"] as? String, try shown(policy), "the policy after step 4")
                XCTAssertEqual(line["policy_tokens"] as? Int, policy.count)
            }
        }
        XCTAssertNotEqual(lines[3]["policy"] as? String, lines[3]["reference"] as? String, "training moved the policy")
        let report = try ReportPage(runDirectory: output).html
        XCTAssertTrue(report.contains("<summary>step 4</summary>") && report.contains("<summary>step 2</summary>"))
        XCTAssertTrue(report.contains(Markup(lines[3]["policy"] as? String ?? "?")), "the report shows the completion")

        try run.train(run.config(output: "part") { common(&$0); $0.maxSteps = 2 })
        let partOutput = run.directory.appendingPathComponent("part")
        // A line after the checkpoint's step, as a run killed after an evaluation but before its next checkpoint leaves.
        let handle = try FileHandle(forWritingTo: partOutput.appendingPathComponent("samples.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"step\": 3, \"policy\": \"left by a killed run\"}\n".utf8))
        try handle.close()
        try run.train(run.config(output: "part", common), resume: "latest")
        let resumed = try samples(partOutput)
        XCTAssertEqual(resumed.map { $0["step"] as? Int }, [2, 2, 2, 4, 4, 4], "lines after the checkpoint's step dropped")
        XCTAssertEqual(resumed.map { $0["policy"] as? String }, lines.map { $0["policy"] as? String })
        XCTAssertEqual(resumed.map { $0["reference"] as? String }, lines.map { $0["reference"] as? String })
    }

    /// What the report does to text: HTML escaping, as `Markup.escape`.
    func Markup(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
