import Tokenizer
import XCTest

/// Pieces of GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
final class GPT2PreTokenizerTests: XCTestCase {
    func testContractionsLettersNumbersAndOther() {
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "I'm don't we'll"), ["I", "'m", " don", "'t", " we", "'ll"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "abc123 45!? x"), ["abc", "123", " 45", "!?", " x"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "DON'T 'S"), ["DON", "'", "T", " '", "S"])
    }

    func testWhitespaceRunKeepsItsLastSpaceForTheNextWord() {
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "a   b"), ["a", "  ", " b"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "a\n\nb"), ["a", "\n", "\n", "b"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "a \n b"), ["a", " \n", " b"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "end  "), ["end", "  "])
    }

    func testUnicodeCategories() {
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "日本語 テスト"), ["日本語", " テスト"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "e\u{301}te"), ["e", "\u{301}", "te"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: "½Ⅻ x\u{3000}y"), ["½Ⅻ", " x", "\u{3000}", "y"])
        XCTAssertEqual(GPT2PreTokenizer.pieces(of: " 👍🏽!"), [" 👍🏽!"])
    }

    /// tiktoken's pieces for scalars of every Unicode general category (Lm as in コーヒー, Lt as in ǅ,
    /// marks, numbers, symbols, spaces, controls, format characters, above the BMP) in contexts
    /// where the class decides the split; most misclassifications show here and not in the ids.
    func testEveryUnicodeGeneralCategorySplitsAsTiktoken() throws {
        let cases = try FixtureFiles.tiktokenCases(FixtureFiles.unicodeClasses)
        XCTAssertGreaterThan(cases.count, 100)
        for item in cases {
            XCTAssertEqual(GPT2PreTokenizer.pieces(of: item.text), item.pieces, "\(item.name): \(item.text.debugDescription)")
        }
    }
}
