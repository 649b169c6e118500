import DPO
import Distributed
import Foundation
import GPT2
import XCTest

/// `precompute_ref` at the start of a fresh run scores the data with the policy (still the
/// starting model) instead of loading a second copy of the weights next to the optimiser state.
final class ReferencePrecomputeMemoryTests: XCTestCase {
    /// A trainer of `run`'s model and data whose `loadInitialModel` counts its calls.
    func trainer(_ run: TinyRun, _ config: TrainingConfig, loads: @escaping () -> Void) throws -> Trainer {
        let files = try RunInputs.tokenizerFiles(explicit: nil, model: config.model)
        let tokenizer = try RunInputs.tokenizer(files)
        let sets = try RunDataSets.load(config: config, tokenizer: tokenizer)
        let data = TrainingData(train: sets.train, trainURL: run.dataURL, eval: nil, evalURL: nil,
                                padID: tokenizer.endOfTextID, tokenizerFiles: files)
        try FileManager.default.createDirectory(atPath: config.outputDir, withIntermediateDirectories: true)
        return try Trainer(config: config, data: data, policy: try RunInputs.model(config.model, seed: config.seed, trainable: true),
                           communicator: LocalCommunicator()) {
            loads()
            return try RunInputs.model(config.model, seed: config.seed, trainable: false)
        }
    }

    /// No second model with the cache computed at step 0; the live reference (and a precompute in
    /// larger batches than training's) loads one, as before.
    func testPrecomputeAtTheStartLoadsNoSecondModel() throws {
        let run = try TinyRun()
        var loads = 0
        for (output, precompute, batch, expected) in [("cached", true, nil, 0), ("live", false, nil, 1), ("wide", true, 8, 1)] {
            loads = 0
            let config = run.config(output: output) {
                $0.precomputeRef = precompute
                $0.precomputeRefBatchSize = batch
                $0.microBatchSize = 4
                $0.maxSteps = 1
                $0.refCacheDir = run.directory.appendingPathComponent("cache-\(output)").path
            }
            try FileManager.default.createDirectory(atPath: config.refCacheDir!, withIntermediateDirectories: true)
            try config.validate(worldSize: 1)
            try trainer(run, config) { loads += 1 }.run()
            XCTAssertEqual(loads, expected, output)
        }
    }
}
