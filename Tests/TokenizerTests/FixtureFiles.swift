import Foundation

/// The committed fixtures beside these tests (made by `scripts/make_tokenizer_fixtures.py`).
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let corpus = directory.appendingPathComponent("corpus.txt")
    static let corpusIDs = directory.appendingPathComponent("corpus-ids.json")
    /// The GPT-2 files shipped as the Tokenizer target's resources.
    static let bundledGPT2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Tokenizer/Resources/gpt2")
}
