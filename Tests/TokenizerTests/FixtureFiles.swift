import Foundation

/// The committed fixtures beside these tests (made by `scripts/make_tokenizer_fixtures.py`).
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let corpus = directory.appendingPathComponent("corpus.txt")
    static let corpusIDs = directory.appendingPathComponent("corpus-ids.json")
    /// Runs without spaces (one pre-tokenizer piece each) and tiktoken's ids for them.
    static let longRuns = directory.appendingPathComponent("long-runs.json")
    /// Scalars of every Unicode general category in telling contexts, and tiktoken's ids for them.
    static let unicodeClasses = directory.appendingPathComponent("unicode-classes.json")
    /// The GPT-2 files shipped as the Tokenizer target's resources.
    static let bundledGPT2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Tokenizer/Resources/gpt2")

    /// One text and tiktoken's ids for it, as `long-runs.json` and `unicode-classes.json` list them.
    struct TiktokenCase: Decodable {
        var name: String
        var text: String
        var ids: [Int32]
        /// The pieces tiktoken's pre-tokenizer cuts `text` into (`unicode-classes.json` only).
        var pieces: [String]?
    }

    /// The cases of one of those files.
    static func tiktokenCases(_ url: URL) throws -> [TiktokenCase] {
        try JSONDecoder().decode([TiktokenCase].self, from: Data(contentsOf: url))
    }
}
