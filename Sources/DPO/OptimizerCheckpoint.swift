import FileErrors
import Foundation
import Safetensors

/// AdamW's state in a checkpoint directory, and where each part of it lives.
///
/// Without ZeRO rank 0 writes one `optimizer.safetensors` holding the moments of every
/// parameter. With ZeRO every rank writes the moments of its own shard to
/// `optimizer-rankRRRRR-of-NNNNN.safetensors` (as llm.c's per-rank state files), so no rank ever
/// holds the whole state; each file's metadata records its range of the flat parameter buffer,
/// the number of parameters and AdamW's step count. The checkpoint's marker (`CheckpointMarker`)
/// lists the files. A resumed run on any number of ranks, with or without ZeRO, reads from each
/// file only the part that overlaps the range it needs.
public struct OptimizerCheckpoint {
    /// The single file of an unsharded checkpoint.
    public static let wholeFileName = "optimizer.safetensors"

    /// The file of rank `rank`'s shard in a run of `ranks` ranks.
    public static func shardFileName(rank: Int, of ranks: Int) -> String {
        String(format: "optimizer-rank%05d-of-%05d.safetensors", rank, ranks)
    }

    /// The files, each with the range of parameters it holds, in parameter order.
    public let files: [(file: SafetensorsFile, range: Range<Int>)]
    /// AdamW's step count when the checkpoint was written.
    public let stepCount: Int

    /// Writes the moments of `optimizer.range` (of `parameterCount` parameters) and the step
    /// count to `url`, synced to the disk before it returns.
    public static func write(_ optimizer: AdamW, parameterCount: Int, to url: URL) throws {
        var writer = SafetensorsWriter(metadata: [
            "format": "dpo-ddp", "step_count": String(optimizer.stepCount), "parameter_count": String(parameterCount),
            "range_start": String(optimizer.range.lowerBound), "range_end": String(optimizer.range.upperBound),
        ])
        try writer.add("exp_avg", shape: [optimizer.m.count], borrowing: UnsafeBufferPointer(optimizer.m.buffer))
        try writer.add("exp_avg_sq", shape: [optimizer.v.count], borrowing: UnsafeBufferPointer(optimizer.v.buffer))
        try writer.write(to: url)
    }

    /// Opens `names` in `directory` and checks that together they hold the moments of exactly
    /// `parameterCount` parameters, each once, at one step count. A file that is missing, unreadable
    /// or does not fit is refused, named.
    public init(directory: URL, names: [String], parameterCount: Int) throws {
        var files: [(file: SafetensorsFile, range: Range<Int>)] = []
        var steps: Set<Int> = []
        for name in names {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TrainingError("\(url.path) is missing: the checkpoint \(directory.path) does not hold all of its "
                    + "optimiser state (every rank writes its shard into the run directory, which all ranks must share)")
            }
            let file: SafetensorsFile
            do {
                file = try SafetensorsFile(contentsOf: url)
            } catch {
                throw TrainingError("\(url.path): unreadable optimiser state: \(error)")
            }
            let metadata = file.metadata
            // An older build's optimizer.safetensors records no range: it holds every parameter.
            let start = metadata["range_start"].map { Int($0) } ?? 0, end = metadata["range_end"].map { Int($0) } ?? parameterCount
            guard let start, let end, start <= end, let step = metadata["step_count"].flatMap(Int.init),
                  metadata["parameter_count"].map({ Int($0) == parameterCount }) ?? true,
                  file.info("exp_avg")?.elementCount == end - start, file.info("exp_avg_sq")?.elementCount == end - start else {
                throw TrainingError("\(url.path) does not fit the model: it must hold exp_avg and exp_avg_sq of "
                    + "parameters range_start..<range_end of \(parameterCount), and a step_count")
            }
            files.append((file, start..<end))
            steps.insert(step)
        }
        files.sort { $0.range.lowerBound < $1.range.lowerBound }
        var covered = 0
        for (file, range) in files {
            guard range.lowerBound == covered else {
                throw TrainingError("\(file.source) holds parameters \(range), but the previous file ends at \(covered): "
                    + "the optimiser files of \(directory.path) do not tile the \(parameterCount) parameters")
            }
            covered = range.upperBound
        }
        guard covered == parameterCount, steps.count == 1, let step = steps.first else {
            throw TrainingError("the optimiser files of \(directory.path) (\(names.joined(separator: ", "))) hold "
                + "\(covered) of \(parameterCount) parameters at step counts \(steps.sorted()): not one whole state")
        }
        self.files = files
        stepCount = step
    }

    /// The moments of the parameters in `range`, read from the files that overlap it.
    public func moments(of range: Range<Int>) throws -> (m: [Float], v: [Float]) {
        var m = [Float](repeating: 0, count: range.count), v = m
        for (file, held) in files where held.overlaps(range) {
            let part = held.clamped(to: range)
            let elements = (part.lowerBound - held.lowerBound)..<(part.upperBound - held.lowerBound)
            let destination = (part.lowerBound - range.lowerBound)..<(part.upperBound - range.lowerBound)
            try m.withUnsafeMutableBufferPointer {
                try file.copyFloats("exp_avg", elements: elements, into: UnsafeMutableBufferPointer(rebasing: $0[destination]))
            }
            try v.withUnsafeMutableBufferPointer {
                try file.copyFloats("exp_avg_sq", elements: elements, into: UnsafeMutableBufferPointer(rebasing: $0[destination]))
            }
        }
        return (m, v)
    }
}
