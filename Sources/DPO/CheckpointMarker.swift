import FileErrors
import Foundation

/// `complete.json`, the file written last into a checkpoint: its presence makes the checkpoint
/// whole (`CheckpointStore` never takes one without it as the latest, and resuming refuses it).
/// It names the optimiser state's files. With ZeRO rank 0 writes it only after every rank has
/// written and synced its shard (a barrier) and rank 0 has opened and checked each of them.
///
/// A checkpoint of an older build has no marker: it counts as whole when it holds the single
/// `optimizer.safetensors` (its directory was renamed into place only once complete).
public struct CheckpointMarker: Codable, Equatable, Sendable {
    /// The marker's file name.
    public static let fileName = "complete.json"

    /// The files holding AdamW's state, one per rank with ZeRO.
    public var optimizerFiles: [String]

    /// A marker for a checkpoint whose optimiser state is in `optimizerFiles`.
    public init(optimizerFiles: [String]) {
        self.optimizerFiles = optimizerFiles
    }

    enum CodingKeys: String, CodingKey {
        case optimizerFiles = "optimizer_files"
    }

    /// Writes the marker into `directory`, synced to the disk.
    public func write(in directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.synchronize()
    }

    /// The marker of the checkpoint `directory`; for an older build's checkpoint without one, a
    /// marker naming its `optimizer.safetensors`.
    ///
    /// - Throws: `TrainingError` naming the directory when it has neither (a checkpoint whose
    ///   ranks did not all finish), or the marker is unreadable.
    public static func read(in directory: URL) throws -> CheckpointMarker {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(OptimizerCheckpoint.wholeFileName).path) else {
                throw TrainingError("\(directory.path) is not a whole checkpoint: its marker \(fileName) is missing "
                    + "(written last, after every rank's optimiser shard; the save did not finish)")
            }
            return CheckpointMarker(optimizerFiles: [OptimizerCheckpoint.wholeFileName])
        }
        do {
            return try JSONDecoder().decode(CheckpointMarker.self, from: Data(contentsOf: url))
        } catch {
            throw TrainingError("\(url.path): unreadable checkpoint marker: \(FileError.cause(of: error))")
        }
    }
}
