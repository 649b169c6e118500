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

    /// Runs training to the end on one process; returns the logged records and the final weights.
    @discardableResult
    func train(_ config: TrainingConfig, resume: String? = nil) throws -> (records: [[String: Any]], weights: [Float]) {
        try config.validate(worldSize: 1)
        let (trainer, _) = try TrainingRun.prepare(config: config, communicator: LocalCommunicator(), resume: resume)
        try trainer.run()
        return (try Self.records(URL(fileURLWithPath: config.outputDir)), trainer.model.parameters.array)
    }

    /// The records of a run directory's metrics.jsonl.
    static func records(_ output: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }
}

/// Asserts two runs logged the same metrics at every step within `tolerance` relative (speeds,
/// which depend on the machine, excluded).
func assertSameMetrics(_ a: [[String: Any]], _ b: [[String: Any]], tolerance: Double,
                       file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "number of records", file: file, line: line)
    for (x, y) in zip(a, b) {
        let keys = Set(x.keys).union(y.keys).subtracting(["pairs_per_second", "tokens_per_second", "allreduce_seconds", "phase"])
        for key in keys.sorted() {
            guard let u = x[key] as? Double, let v = y[key] as? Double else {
                XCTFail("\(key) missing at step \(x["step"] ?? "?")", file: file, line: line)
                continue
            }
            XCTAssertLessThanOrEqual(abs(u - v), tolerance * max(abs(u), abs(v), 1e-12),
                                     "\(key) at step \(x["step"] ?? "?"): \(u) vs \(v)", file: file, line: line)
        }
    }
}

/// Max over tensors of ‖a − b‖ / ‖b‖ for two flat weight buffers of `layout` (a tensor that is
/// exactly zero in `b`, such as a bias that never moves, must be exactly zero in `a`).
func maxTensorRelativeError(_ a: [Float], _ b: [Float], layout: GPT2Layout) -> Double {
    layout.tensors.map { t in
        var diff = 0.0, norm = 0.0
        for i in t.offset..<(t.offset + t.count) {
            diff += Double(a[i] - b[i]) * Double(a[i] - b[i])
            norm += Double(b[i]) * Double(b[i])
        }
        if norm == 0 { return diff == 0 ? 0 : .infinity }
        let error = (diff / norm).squareRoot()
        if error > 1e-5 { print("\(t.name): relative difference \(error)") }
        return error
    }.max() ?? 0
}
