import Foundation
import Tokenizer
import XCTest

/// Known GPT-2 ids and the special token, on the bundled files.
final class GPT2TokenizerTests: XCTestCase {
    func testWellKnownIDs() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        XCTAssertEqual(tokenizer.encode("Hello world"), [15496, 995])
        XCTAssertEqual(tokenizer.encode(" the"), [262])
        XCTAssertEqual(tokenizer.encode(""), [])
        XCTAssertEqual(tokenizer.vocabularySize, 50257)
        XCTAssertEqual(tokenizer.endOfTextID, 50256)
    }

    func testEndOfTextInTextIsOneToken() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        XCTAssertEqual(tokenizer.encode("<|endoftext|>"), [50256])
        XCTAssertEqual(tokenizer.encode("Hello world<|endoftext|>"), [15496, 995, 50256])
        XCTAssertEqual(try tokenizer.decode([15496, 995, 50256]), "Hello world<|endoftext|>")
    }

    func testDecodeRejectsUnknownIDs() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        XCTAssertThrowsError(try tokenizer.decode([50257])) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownTokenID(50257))
        }
        XCTAssertThrowsError(try tokenizer.decode([-1]))
    }

    func testDecodeOfASplitCharacterIsReplacementCharacter() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let ids = tokenizer.encode("🤖")
        XCTAssertGreaterThan(ids.count, 1)
        XCTAssertEqual(try tokenizer.decodeBytes(ids), Array("🤖".utf8))
        XCTAssertTrue(try tokenizer.decode(Array(ids.dropLast())).hasSuffix("\u{FFFD}"))
    }
}
