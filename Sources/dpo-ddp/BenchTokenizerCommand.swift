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
            --repeats) when python3 can import tiktoken; otherwise the table says why it is missing.

            Then both encode runs of one letter without spaces ('a' repeated to each of --run-bytes): \
            each is a single pre-tokenizer piece that the merge loop sees whole, the worst case for it.

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

    @Option(parsing: .upToNextOption, help: "Sizes in bytes of the runs of 'a' without spaces to encode after the text.")
    var runBytes = [100_000, 1_000_000]

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard runBytes.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--run-bytes must all be at least 1") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: text), let content = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(text): cannot read it as UTF-8 text")
        }
        let tokenizer = try tokenizerOptions.load()
        let megabytes = Double(data.count) / 1e6
        let (first, ids) = Self.time { tokenizer.encode(content) }
        let (warm, warmIDs) = bestOfRepeats { tokenizer.encode(content) }
        print("\(text): \(data.count) bytes, one thread")
        print(Self.pad("encoder", 40) + Self.pad("MB/s", 10) + "tokens")
        Self.printRow("dpo-ddp, first encode (empty cache)", megabytes / first, ids.count)
        Self.printRow("dpo-ddp, best of \(repeats) (warm cache)", megabytes / warm, warmIDs.count)
        printTiktoken(text, label: "best of \(repeats)")
        benchmarkRuns(tokenizer)
    }

    /// Ours and tiktoken's rows for runs of `a` of each of `runBytes`: one piece each.
    private func benchmarkRuns(_ tokenizer: GPT2Tokenizer) {
        print("\nruns of 'a' without spaces (one piece each), best of \(repeats)")
        for bytes in runBytes {
            let run = String(repeating: "a", count: bytes)
            let (seconds, ids) = bestOfRepeats { tokenizer.encode(run) }
            Self.printRow("dpo-ddp, \(bytes) bytes", Double(bytes) / 1e6 / seconds, ids.count)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("dpo-ddp-run-\(getpid())-\(bytes).txt")
            defer { try? FileManager.default.removeItem(at: file) }
            do {
                try run.write(to: file, atomically: false, encoding: .utf8)
                printTiktoken(file.path, label: "\(bytes) bytes")
            } catch {
                print("tiktoken: skipped: cannot write \(file.path): \(error.localizedDescription)")
            }
        }
    }

    private struct TiktokenResult: Decodable {
        var tiktoken: String
        var tokens: Int
        var mbPerS: Double
    }

    /// Times tiktoken on the file `path` and prints its row, "tiktoken VERSION, `label`", or why it is missing.
    private func printTiktoken(_ path: String, label: String) {
        let result: Result<TiktokenResult, PythonScript.Skipped> = PythonScript.run(script, [path, String(repeats)], hint: "--script")
        switch result {
        case let .success(result):
            Self.printRow("tiktoken \(result.tiktoken), \(label)", result.mbPerS, result.tokens)
        case let .failure(reason):
            print("tiktoken: skipped: \(reason.reason)")
        }
    }

    /// The shortest time of `repeats` calls of `body`, and its result.
    private func bestOfRepeats<T>(_ body: () -> T) -> (Double, T) {
        var (best, result) = Self.time(body)
        for _ in 1..<repeats {
            let (seconds, next) = Self.time(body)
            if seconds < best { (best, result) = (seconds, next) }
        }
        return (best, result)
    }

    private static func printRow(_ name: String, _ megabytesPerSecond: Double, _ tokens: Int) {
        print(pad(name, 40) + pad(String(format: "%.2f", megabytesPerSecond), 10) + "\(tokens)")
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
