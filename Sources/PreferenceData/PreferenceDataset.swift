import Foundation
import Tokenizer

/// A preference data set read from disk and tokenized.
public struct PreferenceDataset: Sendable {
    /// The pairs, indexed by `PreferencePair.index` (0..<count).
    public var pairs: [PreferencePair]
    /// Counts and lines worth telling the user.
    public var report: PreferenceDataReport

    /// Reads the rows of a JSON Lines or JSON array file as examples, detecting the format from the
    /// first row unless `format` is given. Throws `PreferenceDataError` on the first bad row.
    public static func examples(at url: URL, format: DataFormat?) throws -> (DataFormat, [PreferenceExample]) {
        let records = try JSONRecords.read(url)
        let file = url.path
        guard let format = format ?? DataFormat.detect(row: records[0].object) else {
            throw PreferenceDataError(
                file: file, line: records[0].line, problem: .unknownFormat(keys: records[0].object.keys.sorted()))
        }
        let examples = try records.map {
            try ExampleDecoder.decode(RowFields(file: file, line: $0.line, object: $0.object), as: format)
        }
        return (format, examples)
    }

    /// Reads, tokenizes and truncates a data set as TRL's `DPOTrainer` prepares it, keeping the
    /// first `settings.maxSamples` rows (every row is checked first).
    public static func load(
        url: URL, tokenizer: GPT2Tokenizer, settings: PreferenceDataSettings
    ) throws -> PreferenceDataset {
        let (format, examples) = try examples(at: url, format: settings.format)
        var report = PreferenceDataReport(format: format)
        report.rows = examples.count
        let used = examples.prefix(settings.maxSamples ?? examples.count)
        report.usedRows = used.count
        var pairs = [PreferencePair]()
        for example in used {
            if example.answersAreIdentical { report.identicalAnswerLines.append(example.line) }
            let tokens = TokenizedPair(example, tokenizer: tokenizer, template: settings.chatTemplate)
            if tokens.promptWasCut { report.promptCutPairs += 1 }
            guard let (chosen, rejected) = tokens.sequences(maxLength: settings.maxLength, mode: settings.truncationMode) else {
                report.droppedLongPromptLines.append(example.line)
                continue
            }
            let pair = PreferencePair(index: pairs.count, line: example.line, chosen: chosen, rejected: rejected)
            if pair.chosen.ids.count < tokens.promptIDs.count + tokens.chosenIDs.count
                || pair.rejected.ids.count < tokens.promptIDs.count + tokens.rejectedIDs.count {
                report.truncatedPairs += 1
            }
            pairs.append(pair)
        }
        return PreferenceDataset(pairs: pairs, report: report)
    }
}
