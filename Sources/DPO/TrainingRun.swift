import Distributed
import Foundation
import GPT2
import Kernels
import PreferenceData

/// Everything `dpo-ddp train` does before the loop: threads, tokenizer, data, the starting (or
/// resumed) policy broadcast from rank 0, the resolved config written into the run directory.
///
/// A LoRA run's policy is `config.model`, frozen and loaded alike on every rank, with a trainable
/// adapter: `adapter`'s, or a fresh one (PEFT's initialisation seeded by `seed`); only the
/// adapter is broadcast from rank 0.
public enum TrainingRun {
    /// A trainer ready to `run()`, with a summary line of the data sets for the user.
    public static func prepare(config: TrainingConfig, communicator: any Communicator,
                               resume: String? = nil) throws -> (trainer: Trainer, summary: [String]) {
        var config = config
        let startingAdapter = try config.adoptAdapterSettings()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        KernelThreads.set(config.debug ? 1 : config.threads ?? max(1, cores / communicator.size))
        let output = URL(fileURLWithPath: config.outputDir)
        try config.checkMaxLength()
        var lock: RunDirectoryLock?
        if communicator.rank == 0 {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            lock = try RunDirectoryLock(directory: output)
            if resume == nil { try RunDirectoryContents.prepareFreshRun(in: output, overwrite: config.overwriteOutputDir) }
        }

        let tokenizerFiles = try RunInputs.tokenizerFiles(explicit: config.tokenizer, model: config.model)
        let tokenizer = try RunInputs.tokenizer(tokenizerFiles)
        let sets = try RunDataSets.load(config: config, tokenizer: tokenizer,
                                        recorded: resume == nil ? nil : try DataSplit.read(in: output))
        var summary = sets.summary
        if let split = sets.split, communicator.rank == 0 { try split.write(in: output) }
        let trainURL = URL(fileURLWithPath: config.dataFiles[0])
        let data = TrainingData(train: sets.train, trainURL: trainURL, eval: sets.eval,
                                evalURL: config.evalData.map(URL.init(fileURLWithPath:)) ?? (sets.eval == nil ? nil : trainURL),
                                padID: tokenizer.endOfTextID, tokenizerFiles: tokenizerFiles, tokenizer: tokenizer)

        try checkRanksAgree(config: config, data: sets.train, communicator: communicator)
        let policy: GPT2Model
        var resumed: Trainer.Resumed?
        if let resume {
            let url = try checkpointURL(resume, output: output)
            let saved = try CheckpointStore.load(url)
            try checkSameModel(checkpoint: url, saved: (saved.state.config.model, saved.model.config), now: config.model)
            try checkSameLoRA(checkpoint: url, saved: saved.state.config.loraSettings, now: config.loraSettings)
            try TrainerState.checkResumable(saved: saved.state.config, now: config)
            policy = saved.model
            resumed = Trainer.Resumed(state: saved.state, optimizer: saved.optimizer, reference: saved.reference,
                                      referenceAdapter: saved.referenceAdapter)
            summary.append("resuming from \(url.path) at step \(saved.state.step)")
        } else if let settings = config.loraSettings {
            let adapter = try startingAdapter ?? LoRAAdapter(config: RunInputs.modelConfig(config.model), settings: settings)
            if startingAdapter == nil { adapter.initializeRandomly(seed: config.seed) }
            policy = try RunInputs.model(config.model, seed: config.seed, trainable: true, adapter: adapter)
        } else {
            policy = try RunInputs.model(config.model, seed: config.seed, trainable: true)
        }
        try communicator.broadcast(policy.trainableParameters.buffer, root: 0)
        if communicator.rank == 0 {
            try config.yaml.write(to: output.appendingPathComponent("resolved_config.yaml"), atomically: true, encoding: .utf8)
        }
        let trainer = try Trainer(config: config, data: data, policy: policy, communicator: communicator, resume: resumed,
                                  loadInitialModel: { [config] in try startingModel(config: config, policy: policy) })
        trainer.runDirectoryLock = lock
        return (trainer, summary)
    }

    /// A resumed run must start from the model the checkpoint was trained from: another one would
    /// train the checkpoint's weights against a reference rebuilt from a different model.
    static func checkSameModel(checkpoint: URL, saved: (name: String, config: GPT2Config), now: String) throws {
        guard saved.name != now else { return }
        let shape = (try? RunInputs.modelConfig(now).shapeDescription) ?? "unreadable"
        throw TrainingError("cannot resume: \(checkpoint.path) was trained from model \(saved.name) "
            + "(\(saved.config.shapeDescription)), but this run names model \(now) (\(shape)); "
            + "resume with the same model, or start a new run")
    }

    /// The run's starting model, frozen: `config.model` loaded again; for a LoRA run the policy's
    /// base weights (shared, not copied) with `adapter` read again, or with no adapter (a fresh
    /// adapter starts as the base: B = 0).
    static func startingModel(config: TrainingConfig, policy: GPT2Model) throws -> GPT2Model {
        guard policy.adapter != nil else { return try RunInputs.model(config.model, seed: config.seed, trainable: false) }
        let adapter = try config.adapter.map { try PEFTAdapter.load(from: URL(fileURLWithPath: $0), config: policy.config) }
        return try GPT2Model(sharingWeightsOf: policy, adapter: adapter)
    }

    /// A resumed run must train the kind of model the checkpoint holds: its LoRA adapter with the
    /// same settings, or every weight.
    static func checkSameLoRA(checkpoint: URL, saved: LoRASettings?, now: LoRASettings?) throws {
        func kind(_ settings: LoRASettings?) -> String {
            settings.map { "a LoRA adapter (\(CheckpointStore.describe($0)))" } ?? "every weight (no LoRA)"
        }
        guard !CheckpointStore.sameAdapterSettings(saved, now) else { return }
        throw TrainingError("cannot resume: \(checkpoint.path) trained \(kind(saved)), but this run's settings train "
            + "\(kind(now)); resume with the checkpoint's settings, or start a new run")
    }

    /// Every rank must train with the same settings on the same tokenized pairs: fingerprints of
    /// the resolved config and of the data are compared with rank 0's before any work.
    static func checkRanksAgree(config: TrainingConfig, data: PreferenceDataset, communicator: any Communicator) throws {
        guard communicator.size > 1 else { return }
        var configHash = ContentHash(), dataHash = ContentHash()
        configHash.update(config.yaml)
        for pair in data.pairs {
            dataHash.update(pair.chosen.ids + [Int32(pair.chosen.promptLength)])
            dataHash.update(pair.rejected.ids + [Int32(pair.rejected.promptLength)])
        }
        var fingerprints = [configHash.value, dataHash.value]
        try fingerprints.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: 0) }
        if fingerprints[0] != configHash.value {
            throw TrainingError("the resolved settings differ from rank 0's (same config file, options and paths on every node?)")
        }
        if fingerprints[1] != dataHash.value {
            throw TrainingError("the tokenized data differs from rank 0's (\(config.data): same file and tokenizer on every node?)")
        }
    }

    /// `latest` (the newest checkpoint in `output`) or a checkpoint directory.
    static func checkpointURL(_ spec: String, output: URL) throws -> URL {
        guard spec == "latest" else { return URL(fileURLWithPath: spec) }
        guard let latest = CheckpointStore(directory: output).latest() else {
            throw TrainingError("--resume latest: no checkpoint in \(output.path)")
        }
        return latest
    }
}
