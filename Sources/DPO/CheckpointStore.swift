import FileErrors
import Foundation
import GPT2
import Safetensors

/// The checkpoints of a run directory: `OUTPUT_DIR/checkpoint-STEP/` holding `config.json` and
/// `model.safetensors` (Hugging Face layout), tokenizer files, `optimizer.safetensors` (AdamW's
/// moments), `reference.safetensors` when the reference is not reconstructible (after an SFT
/// phase), and `trainer_state.json`.
///
/// A checkpoint is written into a hidden temporary directory and renamed into place, and an old
/// one is renamed to a hidden name before it is deleted, so a crash or kill at any moment leaves
/// every visible `checkpoint-*` directory whole: `latest` is simply the one with the highest step.
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
        /// AdamW's moments of every parameter and its step count.
        public var moments: (m: FloatBuffer, v: FloatBuffer, stepCount: Int)
        public var reference: GPT2Model?
        public var state: TrainerState
        public var tokenizerFiles: [URL]

        /// The contents of a checkpoint to write.
        public init(model: GPT2Model, moments: (m: FloatBuffer, v: FloatBuffer, stepCount: Int), reference: GPT2Model?,
                    state: TrainerState, tokenizerFiles: [URL]) {
            self.model = model
            self.moments = moments
            self.reference = reference
            self.state = state
            self.tokenizerFiles = tokenizerFiles
        }
    }

    /// Steps of the complete checkpoints present, ascending.
    public func steps() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name in
            name.hasPrefix("checkpoint-") ? Int(name.dropFirst("checkpoint-".count)) : nil
        }.sorted()
    }

    /// The directory of the checkpoint at `step`.
    public func url(step: Int) -> URL { directory.appendingPathComponent("checkpoint-\(step)") }

    /// The newest checkpoint, or nil when there is none.
    public func latest() -> URL? { steps().last.map(url(step:)) }

    /// Writes a checkpoint for `contents.state.step` atomically, then removes the oldest ones
    /// beyond `keep` (nil keeps all).
    @discardableResult
    public func save(_ contents: Contents, keep: Int?) throws -> URL {
        removeLeftovers()
        let final = try writeAtomically(name: "checkpoint-\(contents.state.step)") { try Self.write(contents, to: $0) }
        if let keep {
            for step in steps().dropLast(max(keep, 1)) { try discard(url(step: step)) }
        }
        return final
    }

    /// Writes the model and tokenizer files only (for `OUTPUT_DIR/final`), atomically.
    public func saveModel(_ model: GPT2Model, tokenizerFiles: [URL], name: String) throws -> URL {
        try writeAtomically(name: name) { temporary in
            try HFCheckpoint.save(model, to: temporary)
            try Self.copy(tokenizerFiles, into: temporary)
        }
    }

    /// Fills the hidden directory `.NAME.partial` with `body`, then puts it in place of `NAME`
    /// (an older `NAME` is hidden first and deleted once the new one is in place). On failure the
    /// partial directory is removed, the older `NAME` restored, and the error rethrown.
    func writeAtomically(name: String, _ body: (URL) throws -> Void) throws -> URL {
        let final = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(".\(name).partial")
        let manager = FileManager.default
        try? manager.removeItem(at: temporary)
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

    static func write(_ contents: Contents, to directory: URL) throws {
        try HFCheckpoint.save(contents.model, to: directory)
        try copy(contents.tokenizerFiles, into: directory)
        let (m, v, stepCount) = contents.moments
        var moments = SafetensorsWriter(metadata: ["format": "dpo-ddp", "step_count": String(stepCount)])
        try moments.add("exp_avg", shape: [m.count], floats: UnsafeBufferPointer(m.buffer))
        try moments.add("exp_avg_sq", shape: [v.count], floats: UnsafeBufferPointer(v.buffer))
        try moments.write(to: directory.appendingPathComponent("optimizer.safetensors"))
        if let reference = contents.reference {
            var writer = SafetensorsWriter(metadata: ["format": "dpo-ddp"])
            try writer.add("reference", shape: [reference.parameters.count], floats: UnsafeBufferPointer(reference.parameters.buffer))
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

    /// Reads a checkpoint written by `save`, refusing one that is incomplete or does not fit.
    public static func load(_ directory: URL) throws -> (model: GPT2Model, moments: (m: [Float], v: [Float], steps: Int),
                                                         reference: [Float]?, state: TrainerState) {
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
        let model = try HFCheckpoint.load(from: directory)
        let optimizerFile = try SafetensorsFile(contentsOf: directory.appendingPathComponent("optimizer.safetensors"))
        let m = try optimizerFile.floats("exp_avg"), v = try optimizerFile.floats("exp_avg_sq")
        guard m.count == model.layout.count, v.count == model.layout.count,
              let steps = optimizerFile.metadata["step_count"].flatMap(Int.init) else {
            throw TrainingError("\(directory.path)/optimizer.safetensors does not fit the model "
                + "(\(m.count) and \(v.count) moments for \(model.layout.count) parameters, or no step_count)")
        }
        var reference: [Float]?
        let referenceURL = directory.appendingPathComponent("reference.safetensors")
        if FileManager.default.fileExists(atPath: referenceURL.path) {
            let values = try SafetensorsFile(contentsOf: referenceURL).floats("reference")
            guard values.count == model.layout.count else {
                throw TrainingError("\(referenceURL.path) has \(values.count) values for \(model.layout.count) parameters")
            }
            reference = values
        }
        return (model, (m, v, steps), reference, state)
    }
}
