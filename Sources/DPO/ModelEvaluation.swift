import Distributed
import Foundation
import GPT2
import PreferenceData

/// Evaluation of a saved policy outside a training run (`dpo-ddp eval`).
public enum ModelEvaluation {
    /// The reference a run with `config` trained against: `ref_model`; else, after an SFT phase,
    /// the SFT model the run saved in `OUTPUT_DIR/sft`; else the starting model. Nil when the
    /// loss needs no reference.
    public static func referenceModel(for config: TrainingConfig) throws -> GPT2Model? {
        guard config.lossSettings.needsReference else { return nil }
        if let path = config.refModel { return try HFCheckpoint.load(from: URL(fileURLWithPath: path), trainable: false) }
        if config.sftSteps > 0 {
            let sft = URL(fileURLWithPath: config.outputDir).appendingPathComponent("sft")
            guard FileManager.default.fileExists(atPath: sft.path) else {
                throw TrainingError("the run trained against its SFT model, expected in \(sft.path); pass --ref-model DIR")
            }
            return try HFCheckpoint.load(from: sft, trainable: false)
        }
        return try RunInputs.model(config.model, seed: config.seed, trainable: false)
    }

    /// TRL-named metrics of `policy` on `dataset` with the config's loss and reference.
    public static func metrics(policy: GPT2Model, dataset: PreferenceDataset, config: TrainingConfig, padID: Int32,
                               communicator: any Communicator) throws -> [String: Double] {
        let reference = try referenceModel(for: config).map(ReferenceLogProbs.model) ?? .none
        let micro = config.microBatchSize ?? max(1, config.batchSize / communicator.size)
        return try PairScoring(policy: policy, config: config).evaluate(
            dataset, loss: DPOLoss(settings: config.lossSettings), reference: reference, microBatchSize: micro,
            padID: padID, communicator: communicator)
    }
}
