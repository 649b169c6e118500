import Foundation
import Tokenizer
import XCTest

/// Our ids against tiktoken's `gpt2` encoding on the committed 100k-token mixed corpus, on runs
/// without spaces, and on every Unicode general category.
final class TiktokenParityTests: XCTestCase {
    private func loadCorpus() throws -> (text: String, ids: [Int32]) {
        let text = try String(contentsOf: FixtureFiles.corpus, encoding: .utf8)
        let ids = try JSONDecoder().decode([Int32].self, from: Data(contentsOf: FixtureFiles.corpusIDs))
        return (text, ids)
    }

    func testCorpusEncodesToTiktokenIDs() throws {
        let (text, expected) = try loadCorpus()
        XCTAssertGreaterThanOrEqual(expected.count, 100_000)
        let ids = try GPT2Tokenizer.bundledGPT2().encode(text)
        if let mismatch = zip(ids, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            let window = max(0, mismatch - 5)..<min(mismatch + 5, expected.count, ids.count)
            XCTFail("first difference at token \(mismatch): ours \(ids[window]) tiktoken \(expected[window])")
        }
        XCTAssertEqual(ids.count, expected.count)
    }

    func testCorpusRoundTrips() throws {
        let (text, _) = try loadCorpus()
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        XCTAssertEqual(try tokenizer.decode(tokenizer.encode(text)), text)
    }

    func testSecondEncodeOfTheSameTextUsesTheCacheAndAgrees() throws {
        let (text, expected) = try loadCorpus()
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        _ = tokenizer.encode(text)
        XCTAssertEqual(tokenizer.encode(text), expected)
    }

    /// Every case of `url` encodes to tiktoken's ids; a failure names the case (category and scalar).
    private func assertCasesEncodeToTiktokenIDs(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = try FixtureFiles.tiktokenCases(url)
        XCTAssertFalse(cases.isEmpty, file: file, line: line)
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        for item in cases {
            let ids = tokenizer.encode(item.text)
            XCTAssertEqual(ids, item.ids, "\(item.name): \(item.text.debugDescription.prefix(120))", file: file, line: line)
        }
    }

    /// Runs of one letter of every length to 40 and 4,097, multi-byte letters, digits, punctuation,
    /// emoji, whitespace and random letters, each one piece that the merge loop sees whole.
    func testLongRunsWithoutSpacesEncodeToTiktokenIDs() throws {
        try assertCasesEncodeToTiktokenIDs(FixtureFiles.longRuns)
    }

    /// Scalars of each general category (Lm as in コーヒー, Lt as in ǅ, marks, numbers, symbols,
    /// spaces, format and control characters, above the BMP) where their class decides the split.
    func testEveryUnicodeGeneralCategoryEncodesToTiktokenIDs() throws {
        try assertCasesEncodeToTiktokenIDs(FixtureFiles.unicodeClasses)
    }
}
