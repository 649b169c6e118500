import ArgumentParser
import Foundation
import Tokenizer

/// `--tokenizer DIR`: which GPT-2 tokenizer files to use; GPT-2's own, shipped with dpo-ddp, by default.
struct TokenizerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "A directory with tokenizer.json or vocab.json + merges.txt, or a tokenizer.json file.",
        discussion: "Default: GPT-2's files shipped inside dpo-ddp.", valueName: "dir"))
    var tokenizer: String?

    /// The tokenizer named by `--tokenizer`, or the bundled GPT-2 one.
    func load() throws -> GPT2Tokenizer {
        guard let tokenizer else { return try GPT2Tokenizer.bundledGPT2() }
        return try GPT2Tokenizer(contentsOf: URL(fileURLWithPath: tokenizer))
    }
}
