import Foundation
import Tokenizer
import XCTest

/// Loading from `vocab.json` + `merges.txt` or `tokenizer.json`, and the errors bad files give.
final class TokenizerFilesTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    private func write(_ text: String, _ name: String) throws {
        try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func testTokenizerJSONGivesTheSameIDsAsVocabAndMerges() throws {
        let vocabulary = try JSONSerialization.jsonObject(
            with: Data(contentsOf: FixtureFiles.bundledGPT2.appendingPathComponent("vocab.json")))
        let merges = try String(contentsOf: FixtureFiles.bundledGPT2.appendingPathComponent("merges.txt"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        let json: [String: Any] = [
            "added_tokens": [["id": 50256, "content": "<|endoftext|>", "special": true]],
            "model": ["type": "BPE", "vocab": vocabulary, "merges": merges],
        ]
        let file = directory.appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        let text = "Hello world<|endoftext|> don't  stop"
        XCTAssertEqual(try GPT2Tokenizer(contentsOf: directory).encode(text),
                       try GPT2Tokenizer.bundledGPT2().encode(text))
        XCTAssertEqual(try GPT2Tokenizer(contentsOf: file).encode(text), [15496, 995, 50256, 836, 470, 220, 2245])
    }

    func testBadMergesLineNamesFileAndLine() throws {
        try write(#"{"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3}"#, "vocab.json")
        try write("#version: 0.2\na b\na b c\n", "merges.txt")
        XCTAssertThrowsError(try GPT2Tokenizer(contentsOf: directory)) { error in
            XCTAssertTrue("\(error)".hasSuffix("merges.txt:3: expected two tokens separated by one space"), "\(error)")
        }
    }

    func testVocabularyWithAWrongTypeNamesTheToken() throws {
        try write(#"{"a": "zero"}"#, "vocab.json")
        try write("#version: 0.2\n", "merges.txt")
        XCTAssertThrowsError(try GPT2Tokenizer(contentsOf: directory)) { error in
            XCTAssertTrue("\(error)".hasSuffix("vocab.json: a: expected a non-negative integer id"), "\(error)")
        }
    }

    func testTokenizerJSONOfAnotherModelTypeIsRejected() throws {
        try write(#"{"model": {"type": "WordPiece", "vocab": {}}}"#, "tokenizer.json")
        XCTAssertThrowsError(try GPT2Tokenizer(contentsOf: directory)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.json: model.type: expected \"BPE\""), "\(error)")
        }
    }

    func testMissingDirectoryIsReported() {
        XCTAssertThrowsError(try GPT2Tokenizer(contentsOf: directory.appendingPathComponent("nope"))) { error in
            XCTAssertTrue("\(error)".hasSuffix("nope: cannot read: no such file or directory"), "\(error)")
        }
    }
}
