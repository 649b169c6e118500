import Distributed
import FileErrors
import Foundation
import GPT2
import Safetensors

/// The checkpoints of a run directory: `OUTPUT_DIR/checkpoint-STEP/` holding `config.json` and
/// `model.safetensors` (Hugging Face layout), tokenizer files, AdamW's moments (`optimizer.safetensors`,
/// or with ZeRO one shard file per rank: `OptimizerCheckpoint`), `reference.safetensors` when the
/// reference is not reconstructible (after an SFT phase), `trainer_state.json`, and last the
/// marker `complete.json` (`CheckpointMarker`).
///
/// A LoRA run's checkpoint holds the adapter in PEFT's form (`adapter_config.json` and
/// `adapter_model.safetensors`, which PEFT loads onto the base model) instead of the model, the
/// moments of the adapter's parameters, and `reference_adapter/` (PEFT's form too) when the
/// reference is the base with a frozen copy of an adapter; the base model is `config.model`.
///
/// A checkpoint is written into a hidden temporary directory and renamed into place, and an old
/// one is renamed to a hidden name before it is deleted, so a crash or kill at any moment leaves
/// every visible `checkpoint-*` directory whole: `latest` is the one with the highest step that
/// holds its marker. With ZeRO every rank writes its shard into the same temporary directory,
/// so the run directory must be one all ranks share.
/// A save that fails (a full disk) removes its temporary directory before the error goes on, so
/// it does not keep the disk full for the resume.
public struct CheckpointStore: Sendable {
    /// The run directory.
    public let directory: URL

    /// Deletes a discarded (already renamed) directory.
    let removeItem: @Sendable (URL) throws -> Void

    /// The checkpoints of `directory`. `removeItem` deletes a discarded directory after its rename;
    /// tests pass one that stops half-way, as a kill would.
    public init(directory: URL,
                removeItem: @escaping @Sendable (URL) throws -> Void = { try FileManager.default.removeItem(at: $0) }) {
        self.directory = directory
        self.removeItem = removeItem
    }

    /// What one checkpoint holds.
    public struct Contents {
        public var model: GPT2Model
        /// AdamW over every parameter, or nil when each rank saves its shard (`saveSharded`).
        public var optimizer: AdamW?
        public var reference: GPT2Model?
        public var state: TrainerState
        public var tokenizerFiles: [URL]
        /// A LoRA run's reference adapter (the frozen copy the reference runs with), when there is one.
        public var referenceAdapter: LoRAAdapter?

        /// The contents of a checkpoint to write.
        public init(model: GPT2Model, optimizer: AdamW?, reference: GPT2Model?, state: TrainerState, tokenizerFiles: [URL],
                    referenceAdapter: LoRAAdapter? = nil) {
            self.model = model
            self.optimizer = optimizer
            self.reference = reference
            self.state = state
            self.tokenizerFiles = tokenizerFiles
            self.referenceAdapter = referenceAdapter
        }
    }

    /// Steps of the complete checkpoints present (those with their marker), ascending.
    public func steps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name in
            name.hasPrefix("checkpoint-") ? Int(name.dropFirst("checkpoint-".count)) : nil
        }.filter { (try? CheckpointMarker.read(in: url(step: $0))) != nil }.sorted()
    }

    /// The directory of the checkpoint at `step`.
    public func url(step: Int) -> URL { directory.appendingPathComponent("checkpoint-\(step)") }

    /// The newest checkpoint, or nil when there is none.
    public func latest() -> URL? { steps().last.map(url(step:)) }

    /// Writes a checkpoint for `contents.state.step` atomically, with the whole optimiser state
    /// (`contents.optimizer`) in `optimizer.safetensors`, then removes the oldest ones beyond
    /// `keep` (nil keeps all).
    @discardableResult
    public func save(_ contents: Contents, keep: Int?) throws -> URL {
        guard let optimizer = contents.optimizer else { preconditionFailure("CheckpointStore.save without the optimiser") }
        removeLeftovers()
        let final = try writeAtomically(name: "checkpoint-\(contents.state.step)") { temporary in
            try Self.write(contents, to: temporary)
            try OptimizerCheckpoint.write(optimizer, parameterCount: contents.model.trainableLayout.count,
                                          to: temporary.appendingPathComponent(OptimizerCheckpoint.wholeFileName))
            try CheckpointMarker(optimizerFiles: [OptimizerCheckpoint.wholeFileName]).write(in: temporary)
        }
        try prune(keep: keep)
        return final
    }

    /// Writes a checkpoint for `step` whose optimiser state is sharded over the ranks of
    /// `communicator` (ZeRO): every rank calls this with its `shard`, rank 0 also with the rest
    /// (`contents`, whose `optimizer` is unused). Rank 0 prepares the hidden temporary directory;
    /// after a barrier every rank writes its shard file into it and syncs it, rank 0 the model and
    /// the rest; after a second barrier rank 0 opens and checks every shard file, writes the
    /// marker and renames the directory into place, then removes the oldest checkpoints beyond
    /// `keep`. No rank gathers the others' state. Returns the checkpoint on rank 0, nil elsewhere.
    @discardableResult
    public func saveSharded(_ contents: Contents?, step: Int, shard: AdamW, parameterCount: Int,
                            communicator: any Communicator, keep: Int?) throws -> URL? {
        let name = "checkpoint-\(step)", ranks = communicator.size
        let temporary = partialURL(name)
        if communicator.rank == 0 {
            removeLeftovers()
            try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        }
        try communicator.barrier()
        let shardName = OptimizerCheckpoint.shardFileName(rank: communicator.rank, of: ranks)
        try OptimizerCheckpoint.write(shard, parameterCount: parameterCount, to: temporary.appendingPathComponent(shardName))
        if let contents { try Self.write(contents, to: temporary) }
        try communicator.barrier()
        guard communicator.rank == 0 else { return nil }
        let names = (0..<ranks).map { OptimizerCheckpoint.shardFileName(rank: $0, of: ranks) }
        let final = try putInPlace(temporary, as: name) { temporary in
            _ = try OptimizerCheckpoint(directory: temporary, names: names, parameterCount: parameterCount)
            try CheckpointMarker(optimizerFiles: names).write(in: temporary)
        }
        try prune(keep: keep)
        return final
    }

    /// Removes the oldest checkpoints beyond `keep` (nil keeps all).
    private func prune(keep: Int?) throws {
        guard let keep else { return }
        for step in steps().dropLast(max(keep, 1)) { try discard(url(step: step)) }
    }

    /// Writes the model (a LoRA policy: its adapter, for the base `baseModel`) and tokenizer files
    /// only (for `OUTPUT_DIR/final`), atomically.
    public func saveModel(_ model: GPT2Model, baseModel: String, tokenizerFiles: [URL], name: String) throws -> URL {
        try writeAtomically(name: name) { temporary in
            try Self.saveWeights(model, baseModel: baseModel, to: temporary)
            try Self.copy(tokenizerFiles, into: temporary)
        }
    }

    /// Writes `model`'s trained weights into `directory`: a Hugging Face checkpoint, or for a
    /// LoRA policy its adapter alone in PEFT's form, `base_model_name_or_path` = `baseModel`.
    static func saveWeights(_ model: GPT2Model, baseModel: String, to directory: URL) throws {
        if let adapter = model.adapter {
            try PEFTAdapter.save(adapter, to: directory, baseModel: baseModel)
        } else {
            try HFCheckpoint.save(model, to: directory)
        }
    }

    /// The subdirectory of a LoRA checkpoint holding the reference's adapter.
    public static let referenceAdapterDirectory = "reference_adapter"

    /// Fills the hidden directory `.NAME.partial` with `body`, then puts it in place of `NAME`
    /// (an older `NAME` is hidden first and deleted once the new one is in place). On failure the
    /// partial directory is removed, the older `NAME` restored, and the error rethrown.
    func writeAtomically(name: String, _ body: (URL) throws -> Void) throws -> URL {
        let temporary = partialURL(name)
        try? FileManager.default.removeItem(at: temporary)
        return try putInPlace(temporary, as: name, after: body)
    }

    /// The hidden directory `.NAME.partial` a checkpoint `NAME` is written into.
    func partialURL(_ name: String) -> URL { directory.appendingPathComponent(".\(name).partial") }

    /// Finishes the hidden directory `temporary` with `body`, then puts it in place of `NAME` as
    /// `writeAtomically` does (on failure `temporary` is removed and an older `NAME` restored).
    func putInPlace(_ temporary: URL, as name: String, after body: (URL) throws -> Void) throws -> URL {
        let final = directory.appendingPathComponent(name)
        let manager = FileManager.default
        var older: URL?
        do {
            try body(temporary)
            if manager.fileExists(atPath: final.path) { older = try hide(final) }
            try manager.moveItem(at: temporary, to: final)
        } catch {
            try? manager.removeItem(at: temporary)
            if let older, !manager.fileExists(atPath: final.path) { try? manager.moveItem(at: older, to: final) }
            throw error
        }
        if let older { try removeItem(older) }
        return final
    }

    /// Deletes `item` after renaming it to a hidden name, so a kill in the middle of the deletion
    /// leaves no half-deleted directory under a visible name (the next save removes the rest).
    func discard(_ item: URL) throws {
        try removeItem(try hide(item))
    }

    /// Renames `item` to `.NAME.deleting` beside it and returns the new URL.
    func hide(_ item: URL) throws -> URL {
        let hidden = directory.appendingPathComponent(".\(item.lastPathComponent).deleting")
        try? FileManager.default.removeItem(at: hidden)
        try FileManager.default.moveItem(at: item, to: hidden)
        return hidden
    }

    /// Removes half-written checkpoints and half-deleted ones that a killed run left behind.
    func removeLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(".") && (name.hasSuffix(".partial") || name.hasSuffix(".deleting")) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes everything but the optimiser state and the marker into `directory`.
    static func write(_ contents: Contents, to directory: URL) throws {
        try saveWeights(contents.model, baseModel: contents.state.config.model, to: directory)
        try copy(contents.tokenizerFiles, into: directory)
        if let adapter = contents.referenceAdapter {
            try PEFTAdapter.save(adapter, to: directory.appendingPathComponent(referenceAdapterDirectory),
                                 baseModel: contents.state.config.model)
        }
        if let reference = contents.reference {
            var writer = SafetensorsWriter(metadata: ["format": "dpo-ddp"])
            try writer.add("reference", shape: [reference.parameters.count], borrowing: UnsafeBufferPointer(reference.parameters.buffer))
            try writer.write(to: directory.appendingPathComponent("reference.safetensors"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(contents.state).write(to: directory.appendingPathComponent("trainer_state.json"))
    }

    static func copy(_ files: [URL], into directory: URL) throws {
        for file in files {
            try FileManager.default.copyItem(at: file, to: directory.appendingPathComponent(file.lastPathComponent))
        }
    }

    /// Reads a checkpoint written by `save` or `saveSharded` (the optimiser state is only opened:
    /// each rank reads its part), refusing one that is incomplete or does not fit. A LoRA
    /// checkpoint's model is its run's base model (`config.model` of its trainer state) with the
    /// saved adapter (see `loadPolicy`).
    public static func load(_ directory: URL) throws -> (model: GPT2Model, optimizer: OptimizerCheckpoint,
                                                         reference: [Float]?, referenceAdapter: LoRAAdapter?,
                                                         state: TrainerState) {
        let stateURL = directory.appendingPathComponent("trainer_state.json")
        guard FileManager.default.fileExists(atPath: stateURL.path) else {
            throw TrainingError("\(directory.path) is not a dpo-ddp checkpoint: trainer_state.json is missing")
        }
        let state: TrainerState
        do {
            state = try TrainerState.decode(Data(contentsOf: stateURL))
        } catch {
            throw TrainingError("\(stateURL.path): unreadable trainer state: \(FileError.cause(of: error))")
        }
        let marker = try CheckpointMarker.read(in: directory)
        let model = try loadPolicy(directory, config: state.config)
        let optimizer = try OptimizerCheckpoint(directory: directory, names: marker.optimizerFiles,
                                                parameterCount: model.trainableLayout.count)
        var reference: [Float]?
        let referenceURL = directory.appendingPathComponent("reference.safetensors")
        if FileManager.default.fileExists(atPath: referenceURL.path) {
            let values = try SafetensorsFile(contentsOf: referenceURL).floats("reference")
            guard values.count == model.layout.count else {
                throw TrainingError("\(referenceURL.path) has \(values.count) values for \(model.layout.count) parameters")
            }
            reference = values
        }
        return (model, optimizer, reference, try loadReferenceAdapter(directory, config: state.config), state)
    }
}
