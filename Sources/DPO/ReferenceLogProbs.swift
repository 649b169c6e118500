import Distributed
import Foundation
import GPT2
import PreferenceData

/// Where the reference model's summed completion log-probs come from.
public enum ReferenceLogProbs {
    /// No reference (reference-free losses): every reference log-prob is 0.
    case none
    /// A frozen model, run forward on each micro-batch.
    case model(GPT2Model)
    /// Precomputed for the whole data set.
    case cache(ReferenceCache)

    /// Reference log-probs of each pair of `batch`: per token from a live model; as sums from a
    /// cache (already `ld_alpha`-weighted when it was computed with it); zeros per token when there
    /// is no reference, `tokens` giving each row's completion length.
    public func pairRows(batch: MicroBatch, scoring: ScoringInput, tokens: [Int]) throws -> [ReferenceRows] {
        let pairs = batch.pairIndices.count
        switch self {
        case .none:
            return (0..<pairs).map { c in
                .tokens(TokenRows(chosen: Array(repeating: 0, count: tokens[c]), rejected: Array(repeating: 0, count: tokens[pairs + c])))
            }
        case let .model(model):
            let rows = try SequenceScores(model: model, scoring: scoring).tokenLogps
            return (0..<pairs).map { .tokens(TokenRows(chosen: rows[$0], rejected: rows[pairs + $0])) }
        case let .cache(cache):
            return batch.pairIndices.map { .sums(chosen: cache.chosen[$0], rejected: cache.rejected[$0]) }
        }
    }
}

/// Reference log-probs of every pair of a data set, stored in a file whose name carries a
/// fingerprint of the reference weights (with a LoRA adapter's values, shapes and scaling) and of
/// the tokenized pairs (so any change of model, adapter, data, tokenizer, template or truncation
/// gives a different file): beside the data when that directory is writable, else in the run
/// directory, or in `ref_cache_dir` when one is set.
public struct ReferenceCache: Equatable, Sendable {
    /// Σ log p_ref over the chosen completion of pair i.
    public var chosen: [Double]
    /// Σ log p_ref over the rejected completion of pair i.
    public var rejected: [Double]

    /// The cache file's name for `dataset` read from `dataURL` and scored by `model`, summing with
    /// LD-DPO's weight `ldAlpha` (nil: plain sums; part of the fingerprint).
    public static func fileName(dataURL: URL, model: GPT2Model, dataset: PreferenceDataset, ldAlpha: Double? = nil) -> String {
        var hash = ContentHash()
        hash.update(UnsafeRawBufferPointer(UnsafeBufferPointer(model.parameters.buffer)))
        if let adapter = model.adapter {
            hash.update(UnsafeRawBufferPointer(UnsafeBufferPointer(adapter.parameters.buffer)))
            for tensor in adapter.layout.tensors { hash.update(tensor.name + "\(tensor.shape)") }
            hash.update([adapter.settings.scaling])
        }
        if let ldAlpha { hash.update([ldAlpha]) }
        for pair in dataset.pairs {
            hash.update(pair.chosen.ids + [Int32(pair.chosen.promptLength)])
            hash.update(pair.rejected.ids + [Int32(pair.rejected.promptLength)])
        }
        return dataURL.lastPathComponent + ".ref-logps-\(hash.hex).json"
    }

    /// The directories a cache is looked for in, in order: `cacheDirectory` alone when set, else
    /// the data's directory, then the run directory.
    public static func searchDirectories(dataURL: URL, cacheDirectory: URL?, runDirectory: URL) -> [URL] {
        cacheDirectory.map { [$0] } ?? [dataURL.deletingLastPathComponent(), runDirectory]
    }

    /// The first of `directories` a new file can be created in (tried by creating and removing
    /// one, which also catches read-only mounts and missing directories), or nil.
    public static func firstWritable(_ directories: [URL]) -> URL? {
        directories.first { directory in
            let probe = directory.appendingPathComponent(".dpo-ddp-write-test-\(getpid())")
            guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else { return false }
            try? FileManager.default.removeItem(at: probe)
            return true
        }
    }

    /// Reads a cache file, checking it covers `pairCount` pairs.
    public static func read(_ url: URL, pairCount: Int) throws -> ReferenceCache {
        let cache = try JSONDecoder().decode(ReferenceCache.self, from: Data(contentsOf: url))
        guard cache.chosen.count == pairCount, cache.rejected.count == pairCount else {
            throw TrainingError("\(url.path): reference cache has \(cache.chosen.count) pairs, the data \(pairCount)")
        }
        return cache
    }

    /// Scores every pair with `model`, each rank a share of the micro-batches of `microBatchSize`
    /// pairs, and gathers the results on every rank (an all-reduce of per-pair sums that are zero on
    /// other ranks). The sums weight tokens as `settings` does (`ld_alpha`), as TRL's precompute does.
    public static func compute(model: GPT2Model, dataset: PreferenceDataset, microBatchSize: Int,
                               padID: Int32, settings: LossSettings = LossSettings(),
                               communicator: any Communicator) throws -> ReferenceCache {
        let n = dataset.pairs.count
        var sums = [Double](repeating: 0, count: 2 * n)
        let batches = (n + microBatchSize - 1) / microBatchSize
        for b in stride(from: communicator.rank, to: batches, by: communicator.size) {
            let pairs = Array(dataset.pairs[(b * microBatchSize)..<min(n, (b + 1) * microBatchSize)])
            let batch = MicroBatch(pairs: pairs, padID: padID)
            let rows = try SequenceScores(model: model, scoring: ScoringInput(batch)).tokenLogps
            for (i, pair) in pairs.enumerated() {
                let chosen = rows[i], rejected = rows[pairs.count + i]
                let shared = min(chosen.count, rejected.count)
                sums[pair.index] = settings.weightedSum(chosen, shared: shared)
                sums[n + pair.index] = settings.weightedSum(rejected, shared: shared)
            }
        }
        try sums.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        return ReferenceCache(chosen: Array(sums[..<n]), rejected: Array(sums[n...]))
    }

    /// Writes the cache through a temporary file and a rename.
    public func write(to url: URL) throws {
        try JSONEncoder().encode(self).write(to: url, options: .atomic)
    }
}

extension ReferenceCache: Codable {}

/// A training run that cannot go on, with the reason for the user.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    /// The message.
    public let description: String
    /// An error with a message.
    public init(_ description: String) { self.description = description }
}
