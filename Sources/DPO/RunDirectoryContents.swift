import Foundation

/// What a new (not resumed) run may find in its output directory.
public enum RunDirectoryContents {
    /// The entries that belong to a run: a fresh run must not mix with them.
    static func runEntries(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { name in
            name.hasPrefix("checkpoint-") || name == "metrics.jsonl" || name == EvalSamples.fileName || name == "final" || name == "sft"
        }.sorted()
    }

    /// Refuses a fresh run into a directory holding another run's checkpoints or metrics, unless
    /// `overwrite` (then those entries, and checkpoints half-written or half-deleted, are removed
    /// so that `--resume latest` can never pick up the old run).
    public static func prepareFreshRun(in directory: URL, overwrite: Bool) throws {
        let entries = runEntries(in: directory)
        guard !entries.isEmpty else { return }
        guard overwrite else {
            let shown = entries.count > 4 ? entries.prefix(3).joined(separator: ", ") + ", ..." : entries.joined(separator: ", ")
            throw TrainingError("the output directory \(directory.path) already holds a run (\(shown)): "
                + "continue it with --resume latest, or replace it with --overwrite-output-dir")
        }
        let store = CheckpointStore(directory: directory)
        for name in entries { try store.discard(directory.appendingPathComponent(name)) }
        store.removeLeftovers()
    }
}
