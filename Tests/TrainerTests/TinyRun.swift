import DPO
import Distributed
import Foundation
import GPT2
import XCTest

/// A small, fast training setup in a temporary directory: a 2-layer GPT-2 (16 wide, GPT-2's
/// vocabulary, 811,728 parameters with the default 64 positions) saved as a checkpoint, and 24
/// deterministic preference pairs.
final class TinyRun {
    let directory: URL
    let modelDirectory: URL
    let dataURL: URL
    /// The model's `n_positions`, which is also the configs' `max_length`.
    let positions: Int

    init(positions: Int = 64) throws {
        self.positions = positions
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        modelDirectory = directory.appendingPathComponent("model")
        let model = try GPT2Model(config: GPT2Config(nLayer: 2, nHead: 2, nEmbd: 16, nPositions: positions))
        model.initializeRandomly(seed: 11)
        try HFCheckpoint.save(model, to: modelDirectory)
        dataURL = directory.appendingPathComponent("pairs.jsonl")
        let animals = ["cat", "dog", "horse", "owl", "fox", "bee"], tools = ["hammer", "saw", "drill", "wrench"]
        var lines: [String] = []
        for i in 0..<24 {
            let prompt = "Question \(i): name an animal that is \(["small", "big", "fast", "quiet"][i % 4])."
            let chosen = " The \(animals[i % animals.count]) is one."
            let rejected = " A \(tools[i % tools.count]), I think" + String(repeating: "!", count: i % 3)
            let object = ["prompt": prompt, "chosen": chosen, "rejected": rejected]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(to: dataURL, atomically: true, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A config for this model and data: 8 pairs per step, constant LR, 6 steps, logging every step.
    func config(output: String, _ change: (inout TrainingConfig) -> Void = { _ in }) -> TrainingConfig {
        var config = TrainingConfig()
        config.model = modelDirectory.path
        config.data = dataURL.path
        config.outputDir = directory.appendingPathComponent(output).path
        config.maxLength = positions
        config.batchSize = 8
        config.learningRate = 1e-2
        config.lrScheduler = .constant
        config.maxSteps = 6
        config.loggingSteps = 1
        config.saveSteps = 0
        config.maxGradNorm = 0.5
        config.seed = 3
        change(&config)
        return config
    }

    /// Runs training to the end on one process; returns the logged records and the final trained
    /// weights (a LoRA run's adapter).
    @discardableResult
    func train(_ config: TrainingConfig, resume: String? = nil) throws -> (records: [[String: Any]], weights: [Float]) {
        try config.validate(worldSize: 1)
        let (trainer, _) = try TrainingRun.prepare(config: config, communicator: LocalCommunicator(), resume: resume)
        try trainer.run()
        return (try Self.records(URL(fileURLWithPath: config.outputDir)), trainer.model.trainableParameters.array)
    }

    /// Writes `text` as the config file `name` in this run's directory (where its relative paths
    /// `model` and `pairs.jsonl` resolve) and returns its URL.
    func configFile(_ name: String, _ text: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The records of a run directory's metrics.jsonl.
    static func records(_ output: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }
}

/// Tolerance of two runs' metrics whose only difference is the order float32 sums run in (batch
/// split into micro-batches or ranks, buckets, a cached reference), relative to each metric (on
/// top of `metricDeviation`'s rounding floor): observed ≤ 1.4e-7 (the grad norm) over 4-6 steps
/// with the Haswell, SkylakeX and Cooperlake kernels; 1e-6 ≈ 8ε (float32 ε = 1.19e-7), while a
/// mis-scaled or mis-merged step is off by far more.
let trajectoryTolerance = 1e-6

/// Tolerance of `maxTensorRelativeError` between such runs' weights: AdamW divides by √v, so an
/// entry's update differs by lr times its gradient's relative rounding error, which is larger
/// than ε for small entries (observed ≤ 8.7e-7 after 4-6 steps, all three kernel families).
let weightTolerance = 4e-6

/// The size of the operands of a logged metric that is a difference or a mean of terms that
/// cancel, so can be 0 while its terms are not (0 for every other metric: sums of same-signed
/// terms, norms, counts and settings, and the losses, which stay ≥ 0.29 in the compared runs).
/// - `rewards/chosen` = β(π_c − ref_c) of summed log-probs of ~60-110, each a sum of per-token
///   float32 log-probs: β|π_c| + β|ref_c|, with ref_c = π_c − reward/β (`logps/*` are means of
///   negative sums, so their magnitudes are the sums' sizes).
/// - `rewards/margins`: the four summed log-probs of both rewards.
/// - `logits/*`: means over the whole vocabulary, which cancel to ~1e-4 at initialisation; the
///   larger of the record's two means stands for the logits' size (a lower bound on it).
/// The same holds for their `eval_` forms, scaled by the record's `eval_` operands.
func roundingScale(of key: String, in record: [String: Any], beta: Double) -> Double {
    let prefix = key.hasPrefix("eval_") ? "eval_" : ""
    func value(_ name: String) -> Double { abs(record[prefix + name] as? Double ?? 0) }
    func reward(_ side: String) -> Double {
        let logps = record[prefix + "logps/\(side)"] as? Double ?? 0, reward = record[prefix + "rewards/\(side)"] as? Double ?? 0
        return beta * abs(logps) + abs(beta * logps - reward)
    }
    switch key.dropFirst(prefix.count) {
    case "rewards/chosen": return reward("chosen")
    case "rewards/rejected": return reward("rejected")
    case "rewards/margins": return reward("chosen") + reward("rejected")
    case "logits/chosen", "logits/rejected": return max(value("logits/chosen"), value("logits/rejected"))
    default: return 0
    }
}

/// How far `x` (ours) is from `y` (the expectation, logged as `record`) as a fraction of the
/// allowed |x − y| ≤ tolerance·|y| + 4ε·`roundingScale` (≤ 1 passes; 0 for equal values). The
/// floor is float32 rounding of the operands: each per-token log-prob or logit rounds to within
/// an ulp or two on either side, so a difference of sums of them carries up to a few ε of the
/// operands' size; the operands themselves agree across the compared runs, and with TRL, to ~1ε
/// relative (the `logps/*`, observed).
func metricDeviation(_ key: String, _ x: Double, _ y: Double, record: [String: Any], tolerance: Double,
                     beta: Double) -> Double {
    let difference = abs(x - y)
    if difference == 0 { return 0 }
    return difference / (tolerance * abs(y) + 4 * Double(Float.ulpOfOne) * roundingScale(of: key, in: record, beta: beta))
}

/// Asserts two runs logged the same metrics at every step within `tolerance` relative, above the
/// rounding floor of metrics that can be ~0 (`metricDeviation`); speeds, which depend on the
/// machine, excluded. Prints the worst ratio to the bound. `beta` is the runs' DPO β (the
/// default for `TinyRun`).
func assertSameMetrics(_ a: [[String: Any]], _ b: [[String: Any]], tolerance: Double, beta: Double = TrainingConfig().beta,
                       file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "number of records", file: file, line: line)
    var worst = 0.0
    for (x, y) in zip(a, b) {
        let keys = Set(x.keys).union(y.keys).subtracting(["pairs_per_second", "tokens_per_second", "allreduce_seconds", "phase"])
        for key in keys.sorted() {
            guard let u = x[key] as? Double, let v = y[key] as? Double else {
                XCTFail("\(key) missing at step \(x["step"] ?? "?")", file: file, line: line)
                continue
            }
            let deviation = metricDeviation(key, u, v, record: y, tolerance: tolerance, beta: beta)
            worst = max(worst, deviation)
            XCTAssertLessThanOrEqual(deviation, 1, "\(key) at step \(x["step"] ?? "?"): \(u) vs \(v)", file: file, line: line)
        }
    }
    print("same metrics (line \(line)): worst |Δ| / bound = \(worst) at tolerance \(tolerance)")
}

/// Max over tensors of ‖a − b‖ / ‖b‖ for two flat weight buffers of `layout` (a tensor that is
/// exactly zero in `b`, such as a bias that never moves, must be exactly zero in `a`).
func maxTensorRelativeError(_ a: [Float], _ b: [Float], layout: any ParameterLayout) -> Double {
    let worst = layout.tensors.map { t in
        var diff = 0.0, norm = 0.0
        for i in t.offset..<(t.offset + t.count) {
            diff += Double(a[i] - b[i]) * Double(a[i] - b[i])
            norm += Double(b[i]) * Double(b[i])
        }
        if norm == 0 { return diff == 0 ? 0 : .infinity }
        let error = (diff / norm).squareRoot()
        return error
    }.max() ?? 0
    print("weights: worst relative difference of a tensor \(worst)")
    return worst
}
