import Foundation

extension GPT2Tokenizer {
    /// The directory of GPT-2's `vocab.json` and `merges.txt` shipped inside this package (copied
    /// into checkpoints so a saved model carries its tokenizer), or nil if the resources are missing.
    public static var bundledGPT2Directory: URL? {
        Bundle.module.url(forResource: "gpt2", withExtension: nil)
    }
}
