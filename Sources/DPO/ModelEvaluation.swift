import Distributed
import Foundation
import GPT2
import PreferenceData

/// Evaluation of a saved policy outside a training run (`dpo-ddp eval`).
public enum ModelEvaluation {
    /// The reference a run with `config` trained against: `ref_model`; else, after an SFT phase,
    /// the SFT model the run saved in `OUTPUT_DIR/sft`; else the starting model. With LoRA (TRL's
    /// rule, docs/lora.md) the starting model is the base (`model`) with a frozen copy of the
    /// starting `adapter`, or the base alone for a fresh adapter, and an SFT phase's is the base
    /// with the adapter saved in `sft`; it shares the weights of a `policy` that runs on the same
    /// base with an adapter. Nil when the loss needs no reference.
    public static func referenceModel(for config: TrainingConfig, policy: GPT2Model) throws -> GPT2Model? {
        guard config.lossSettings.needsReference else { return nil }
        if let path = config.refModel { return try HFCheckpoint.load(from: URL(fileURLWithPath: path), trainable: false) }
        var adapter = config.adapter
        if config.sftSteps > 0 {
            let sft = URL(fileURLWithPath: config.outputDir).appendingPathComponent("sft")
            guard FileManager.default.fileExists(atPath: sft.path) else {
                throw TrainingError("the run trained against its SFT model, expected in \(sft.path); pass --ref-model DIR")
            }
            guard RunInputs.isAdapterDirectory(sft.path) else { return try HFCheckpoint.load(from: sft, trainable: false) }
            adapter = sft.path
        }
        let lora = try adapter.map { try PEFTAdapter.load(from: URL(fileURLWithPath: $0), config: RunInputs.modelConfig(config.model)) }
        if policy.adapter != nil { return try GPT2Model(sharingWeightsOf: policy, adapter: lora) }
        return try RunInputs.model(config.model, seed: config.seed, trainable: false, adapter: lora)
    }

    /// The model `eval --policy` names: a checkpoint directory, or a PEFT adapter directory (a
    /// LoRA run's checkpoint or `final/`), applied frozen to the run's base model `config.model`.
    public static func policyModel(_ policy: String, config: TrainingConfig) throws -> GPT2Model {
        RunInputs.isAdapterDirectory(policy)
            ? try RunInputs.frozenModel(config.model, adapter: policy, seed: config.seed)
            : try RunInputs.model(policy, seed: config.seed, trainable: false)
    }

    /// TRL-named metrics of `policy` on `dataset` with the config's loss and reference.
    public static func metrics(policy: GPT2Model, dataset: PreferenceDataset, config: TrainingConfig, padID: Int32,
                               communicator: any Communicator) throws -> [String: Double] {
        let reference = try referenceModel(for: config, policy: policy).map(ReferenceLogProbs.model) ?? .none
        let micro = config.microBatchSize ?? max(1, config.batchSize / communicator.size)
        return try PairScoring(policy: policy, config: config).evaluate(
            dataset, loss: DPOLoss(settings: config.lossSettings), reference: reference, microBatchSize: micro,
            padID: padID, communicator: communicator)
    }
}
