import ArgumentParser
import Foundation
import Tokenizer

/// `dpo-ddp bench-tokenizer`: our single-thread encode throughput next to tiktoken's on the same text.
struct BenchTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-tokenizer",
        abstract: "Measure single-thread GPT-2 encode throughput (MB/s), ours and tiktoken's, on one text file.",
        discussion: """
            Ours is timed twice: the first encode of the text with an empty merge cache, and the best \
            of --repeats encodes after it. tiktoken is timed by scripts/bench_tiktoken.py (best of \
            --repeats) when python3 can import tiktoken and whisper's gpt2.tiktoken; otherwise the \
            table says why it is missing.

            Example:
              dpo-ddp bench-tokenizer --text Tests/TokenizerTests/Fixtures/corpus.txt
            """)

    @OptionGroup var tokenizerOptions: TokenizerOptions

    @Option(help: "The UTF-8 text file to encode.")
    var text: String

    @Option(help: "Timed repetitions; the best is reported.")
    var repeats = 5

    @Option(help: "The tiktoken timing script.")
    var script = "scripts/bench_tiktoken.py"

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: text), let content = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(text): cannot read it as UTF-8 text")
        }
        let tokenizer = try tokenizerOptions.load()
        let megabytes = Double(data.count) / 1e6
        var (seconds, ids) = Self.time { tokenizer.encode(content) }
        var rows = [("dpo-ddp, first encode (empty cache)", megabytes / seconds, ids.count)]
        var best = Double.infinity
        for _ in 0..<repeats {
            (seconds, ids) = Self.time { tokenizer.encode(content) }
            best = min(best, seconds)
        }
        rows.append(("dpo-ddp, best of \(repeats) (warm cache)", megabytes / best, ids.count))
        print("\(text): \(data.count) bytes, one thread")
        print(Self.pad("encoder", 40) + Self.pad("MB/s", 10) + "tokens")
        for (name, rate, count) in rows {
            print(Self.pad(name, 40) + Self.pad(String(format: "%.2f", rate), 10) + "\(count)")
        }
        switch runTiktoken() {
        case let .success(result):
            print(Self.pad("tiktoken \(result.tiktoken), best of \(repeats)", 40)
                + Self.pad(String(format: "%.2f", result.mbPerS), 10) + "\(result.tokens)")
        case let .failure(reason):
            print("tiktoken: skipped: \(reason.reason)")
        }
    }

    private struct TiktokenResult: Decodable {
        var tiktoken: String
        var tokens: Int
        var mbPerS: Double
    }

    private func runTiktoken() -> Result<TiktokenResult, PythonScript.Skipped> {
        PythonScript.run(script, [text, String(repeats)], hint: "--script")
    }

    private static func time<T>(_ body: () -> T) -> (Double, T) {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, result)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
