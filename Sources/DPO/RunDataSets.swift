import Foundation
import PreferenceData
import Tokenizer

/// The pairs a run trains and evaluates on, as LLaMA-Factory's data loader builds them: each
/// `data` file read with its own detected format (its first `max_samples` rows), the files
/// combined by `mix_strategy`, then, when there is no `eval_data`, `val_size` of the pairs held
/// out for evaluation.
public struct RunDataSets: Sendable {
    /// Training pairs.
    public var train: PreferenceDataset
    /// Evaluation pairs: `eval_data`, or the `val_size` split; nil when neither is set.
    public var eval: PreferenceDataset?
    /// The `val_size` split, when one was made (to record in the run directory).
    public var split: DataSplit?
    /// One line per data file, for the mix and for the split: what the user should see before training.
    public var summary: [String]

    /// Loads the data of `config`. A `recorded` split (a resumed run's `data_split.json`) is used
    /// instead of drawing one; it must be of as many pairs as the data now gives.
    public static func load(config: TrainingConfig, tokenizer: GPT2Tokenizer, recorded: DataSplit? = nil) throws -> RunDataSets {
        let files = config.dataFiles
        let sets = try files.map { try RunInputs.dataset($0, config: config, tokenizer: tokenizer) }
        var summary = zip(files, sets).map { "train data \($0): \($1.report.summary)" }
        var train = sets[0]
        if sets.count > 1 {
            let order = DatasetMix.order(lengths: sets.map(\.pairs.count), strategy: config.mixStrategy,
                                         probabilities: config.interleaveProbs, seed: UInt64(truncatingIfNeeded: config.seed))
            train = PreferenceDataset(picking: order, from: sets)
            let counts = files.indices.map { set in order.lazy.filter { $0.set == set }.count }
            summary.append("train data mixed from \(files.count) files (\(config.mixStrategy.rawValue)): \(order.count) pairs ("
                + zip(counts, files).map { "\($0) from \(URL(fileURLWithPath: $1).lastPathComponent)" }.joined(separator: ", ") + ")")
        }
        var eval: PreferenceDataset?
        var split: DataSplit?
        if let path = config.evalData {
            eval = try RunInputs.dataset(path, config: config, tokenizer: tokenizer)
            summary.append("eval data \(path): \(eval!.report.summary)")
        } else if let valSize = config.valSize {
            let made = try Self.split(train.pairs.count, valSize: valSize, seed: config.seed, recorded: recorded)
            let held = Set(made.evalPairs)
            eval = PreferenceDataset(picking: made.evalPairs.map { DatasetMix.Source(set: 0, row: $0) }, from: [train])
            train = PreferenceDataset(picking: train.pairs.indices.filter { !held.contains($0) }.map { DatasetMix.Source(set: 0, row: $0) },
                                      from: [train])
            split = made
            summary.append("val_size \(Self.number(valSize)): \(eval!.pairs.count) of \(made.pairs) pairs held out for evaluation, "
                + "\(train.pairs.count) left for training (seed \(config.seed)" + (recorded == nil ? ")" : ", as recorded)"))
        }
        return RunDataSets(train: train, eval: eval, split: split, summary: summary)
    }

    /// The `val_size` split of `pairs` pairs: `recorded` when given, else drawn from `seed`.
    /// Refused when it would leave no training pair, or when `recorded` is of another data size.
    static func split(_ pairs: Int, valSize: Double, seed: Int, recorded: DataSplit?) throws -> DataSplit {
        if let recorded {
            guard recorded.pairs == pairs, recorded.evalPairs.allSatisfy({ (0..<pairs).contains($0) }) else {
                throw TrainingError("the recorded \(DataSplit.fileName) holds out pairs of \(recorded.pairs) pairs, but data now "
                    + "gives \(pairs): resume with the same data, or start a new run")
            }
            return recorded
        }
        let held = ValidationSplit.evalCount(valSize: valSize, pairCount: pairs)
        guard held < pairs else {
            throw TrainingError("val_size \(number(valSize)) holds out \(held) of the \(pairs) pairs of data, leaving none "
                + "to train on: lower val_size")
        }
        return DataSplit(valSize: valSize, seed: seed, pairs: pairs,
                         evalPairs: ValidationSplit.evalIndices(pairCount: pairs, evalCount: held, seed: UInt64(truncatingIfNeeded: seed)))
    }

    /// `valSize` as written (`0.1`, `50`).
    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : "\(value)"
    }
}
