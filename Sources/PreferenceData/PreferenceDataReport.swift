/// What loading a data set did, for the log before training starts.
public struct PreferenceDataReport: Equatable, Sendable {
    /// The format read (given or detected).
    public var format: DataFormat
    /// Rows in the file.
    public var rows = 0
    /// Rows used: the first `max_samples` of them, else all.
    public var usedRows = 0
    /// Lines of pairs dropped because their prompt alone fills `maxLength` (`keep_start`), or leaves
    /// the responses no token (`proportional`).
    public var droppedLongPromptLines: [Int] = []
    /// Lines of pairs whose chosen answer equals the rejected one (kept, as TRL keeps them).
    public var identicalAnswerLines: [Int] = []
    /// Pairs with at least one sequence cut to `maxLength`.
    public var truncatedPairs = 0
    /// Pairs whose prompt merged with the completion across the boundary (see `TokenizedPair`).
    public var promptCutPairs = 0

    /// One human-readable summary line.
    public var summary: String {
        "\(rows) rows (\(format.rawValue)), " + (usedRows < rows ? "first \(usedRows) used (max_samples), " : "")
            + "\(usedRows - droppedLongPromptLines.count) pairs; "
            + "\(droppedLongPromptLines.count) dropped (prompt fills max-length), "
            + "\(identicalAnswerLines.count) with chosen == rejected, \(truncatedPairs) truncated, "
            + "\(promptCutPairs) with a token merged across the prompt/completion boundary"
    }

    /// The lines of the rows worth looking at, one line of text per kind (none when there are none):
    /// the rows dropped and the rows whose answers are equal.
    public var lineLists: [String] {
        [("dropped (prompt fills max-length) at lines", droppedLongPromptLines),
         ("chosen == rejected at lines", identicalAnswerLines)]
            .filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.map(String.init).joined(separator: ", "))" }
    }
}
