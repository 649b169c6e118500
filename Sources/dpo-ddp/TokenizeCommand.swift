import ArgumentParser
import Foundation
import Tokenizer

/// `dpo-ddp tokenize`: text to GPT-2 token ids as one JSON array, or back with `--decode`.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the GPT-2 token ids of a text as one JSON array (or decode an array with --decode).",
        discussion: """
            The text is --text, or standard input when --text is absent. <|endoftext|> in the text \
            becomes id 50256. With --decode the input is a JSON array of ids and the text is written \
            exactly, with no newline added.

            Examples:
              dpo-ddp tokenize --text "Hello world"          # [15496,995]
              echo '[15496,995]' | dpo-ddp tokenize --decode  # Hello world
            """)

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "The text (or, with --decode, the JSON array of ids). Default: standard input.")
    var text: String?

    @Flag(help: "Read a JSON array of ids and print the text they stand for.")
    var decode = false

    func run() throws {
        let tokenizer = try tokenizerOptions.load()
        let input = try text ?? Self.readStandardInput()
        if decode {
            guard let ids = try? JSONDecoder().decode([Int32].self, from: Data(input.utf8)) else {
                throw ValidationError("the input is not a JSON array of token ids")
            }
            FileHandle.standardOutput.write(Data(try tokenizer.decodeBytes(ids)))
        } else {
            print("[" + tokenizer.encode(input).map(String.init).joined(separator: ",") + "]")
        }
    }

    private static func readStandardInput() throws -> String {
        guard let text = String(data: FileHandle.standardInput.readDataToEndOfFile(), encoding: .utf8) else {
            throw ValidationError("standard input is not valid UTF-8")
        }
        return text
    }
}
