import Foundation

extension GPT2Tokenizer {
    /// The directory of GPT-2's `vocab.json` and `merges.txt` shipped inside this package (copied
    /// into checkpoints so a saved model carries its tokenizer), or nil if the resources are missing.
    ///
    /// SwiftPM puts them in `dpo-ddp_Tokenizer.resources/` next to the built binary; a binary
    /// copied elsewhere must take that directory along. Unlike `Bundle.module`, which stops the
    /// process when the directory is missing, this returns nil so callers can say what to do.
    public static var bundledGPT2Directory: URL? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let places = [Bundle.main.bundleURL, executable.deletingLastPathComponent()]
        return places.map { $0.appendingPathComponent("dpo-ddp_Tokenizer.resources/gpt2") }
            .first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("vocab.json").path) }
    }
}
