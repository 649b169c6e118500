import ArgumentParser
import Foundation
import PreferenceData
import Tokenizer

extension DataFormat: ExpressibleByArgument {}
extension TruncationMode: ExpressibleByArgument {}

/// The data-loading options every command that reads preference pairs takes.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Preference pairs: JSON Lines or a JSON array.", valueName: "file"))
    var data: String

    @Option(help: ArgumentHelp(
        "The rows' layout: \(DataFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
        discussion: "Default: detected from the first row (see docs/data-formats.md)."))
    var dataFormat: DataFormat?

    @Option(help: "Most tokens in prompt + completion per sequence (default 1024, or the model's n_positions if smaller).")
    var maxLength: Int?

    @Option(help: "How a longer pair is cut: keep_start (drops pairs whose prompt fills max-length), keep_end, or proportional (prompt and responses share max-length as LLaMA-Factory's cutoff_len).")
    var truncationMode = TruncationMode.keepStart

    @Option(help: ArgumentHelp(
        "A JSON file with the keys system, user, assistant (patterns with {content}) and generationPrompt.",
        discussion: "Default: the plain template \"System: …\\n\\nUser: …\\n\\nAssistant: …<|endoftext|>\".",
        valueName: "file"))
    var chatTemplate: String?

    func validate() throws {
        guard (maxLength ?? 2) >= 2 else { throw ValidationError("--max-length must be at least 2") }
    }

    /// The options as the loader's settings; `defaultMaxLength` when `--max-length` is not given.
    func settings(defaultMaxLength: Int = 1024) throws -> PreferenceDataSettings {
        PreferenceDataSettings(
            format: dataFormat, maxLength: maxLength ?? defaultMaxLength, truncationMode: truncationMode,
            chatTemplate: try chatTemplate.map { try ChatTemplate.load(URL(fileURLWithPath: $0)) } ?? .plain)
    }

    /// Reads and tokenizes the data set (`defaultMaxLength` when `--max-length` is not given).
    func load(tokenizer: GPT2Tokenizer, defaultMaxLength: Int = 1024) throws -> PreferenceDataset {
        try PreferenceDataset.load(url: URL(fileURLWithPath: data), tokenizer: tokenizer,
                                   settings: try settings(defaultMaxLength: defaultMaxLength))
    }
}

/// `dpo-ddp inspect-data`: reads, checks and tokenizes a data set as training would, and reports.
struct InspectDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-data",
        abstract: "Read and tokenize preference pairs as training would; report counts or the first bad row.",
        discussion: """
            Example:
              dpo-ddp inspect-data --data data/dpo_en_demo.json --max-length 1024
            """)

    @OptionGroup var tokenizerOptions: TokenizerOptions
    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Also print the first N pairs, decoded, with the prompt/completion boundary marked as ‖.")
    var show = 0

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let dataset = try dataOptions.load(tokenizer: tokenizer)
        print("\(dataOptions.data): \(dataset.report.summary)")
        dataset.report.lineLists.forEach { print($0) }
        let lengths = dataset.pairs.flatMap { [$0.chosen.ids.count, $0.rejected.ids.count] }.sorted()
        if let longest = lengths.last {
            print("sequence tokens: median \(lengths[lengths.count / 2]), longest \(longest)")
        }
        for pair in dataset.pairs.prefix(show) {
            for (side, sequence) in [("chosen", pair.chosen), ("rejected", pair.rejected)] {
                let prompt = try tokenizer.decode(Array(sequence.ids[..<sequence.promptLength]))
                let completion = try tokenizer.decode(Array(sequence.ids[sequence.promptLength...]))
                print("pair \(pair.index) (line \(pair.line)) \(side): " + (prompt + "‖" + completion).replacingOccurrences(of: "\n", with: "\\n"))
            }
        }
    }
}
