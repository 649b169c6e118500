extension PreferenceDataset {
    /// The pairs `sources` name in `sets`, in that order and renumbered `0..<sources.count`: a mix
    /// of several data sets (`DatasetMix`) or a part of one (`ValidationSplit`). A pair named twice
    /// (an oversampled set) appears twice. The report is what loading did: the one set's, or for
    /// several sets their counts summed and their lines listed together (the format is the first
    /// set's; lines only mean something per file, so the per-set reports are what to show).
    public init(picking sources: [DatasetMix.Source], from sets: [PreferenceDataset]) {
        var report = sets[0].report
        for other in sets.dropFirst().map(\.report) {
            report.rows += other.rows
            report.usedRows += other.usedRows
            report.droppedLongPromptLines += other.droppedLongPromptLines
            report.identicalAnswerLines += other.identicalAnswerLines
            report.truncatedPairs += other.truncatedPairs
            report.promptCutPairs += other.promptCutPairs
        }
        let pairs = sources.enumerated().map { index, source in
            var pair = sets[source.set].pairs[source.row]
            pair.index = index
            return pair
        }
        self.init(pairs: pairs, report: report)
    }
}
