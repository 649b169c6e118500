import FileErrors
import Foundation

/// The `val_size` split of a run, recorded as `OUTPUT_DIR/data_split.json` so that a resumed run
/// (or `dpo-ddp eval` of the run) holds out the same pairs even if the seed's split were ever
/// computed differently.
public struct DataSplit: Codable, Equatable, Sendable {
    /// The file's name in the run directory.
    public static let fileName = "data_split.json"

    /// `val_size` as set.
    public var valSize: Double
    /// The seed the split was drawn with.
    public var seed: Int
    /// Pairs of the (mixed) training data that was split.
    public var pairs: Int
    /// Ascending indices, among those pairs, of the eval pairs.
    public var evalPairs: [Int]

    /// A split of `pairs` pairs holding out `evalPairs`.
    public init(valSize: Double, seed: Int, pairs: Int, evalPairs: [Int]) {
        self.valSize = valSize
        self.seed = seed
        self.pairs = pairs
        self.evalPairs = evalPairs
    }

    enum CodingKeys: String, CodingKey {
        case valSize = "val_size", seed, pairs, evalPairs = "eval_pairs"
    }

    /// The split recorded in `directory`, or nil when there is none.
    public static func read(in directory: URL) throws -> DataSplit? {
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(DataSplit.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw TrainingError("\(url.path): not a data split written by dpo-ddp (\(error))")
        } catch {
            throw FileError(error, path: url.path) ?? error
        }
    }

    /// Writes the split into `directory` (atomically).
    public func write(in directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw FileError(error, path: url.path) ?? error
        }
    }
}
