import Foundation
import Tokenizer
import XCTest

/// The merge loop's work on one piece of n bytes grows as n log n, not n²: counted with
/// `GPT2Tokenizer.mergeSteps`, never timed. A run without spaces is one piece however long it is,
/// so a data set with one such row used to stall on a quadratic loop.
final class MergeComplexityTests: XCTestCase {
    /// Texts of about `bytes` bytes that are each a single piece.
    private func runs(bytes: Int) -> [(name: String, text: String)] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let random = String((0..<bytes).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return letters[Int(state % UInt64(letters.count))]
        })
        return ["a", "ab", "é", "日", "🤖", "1"].map { unit in
            ("\(unit.debugDescription) repeated", String(repeating: unit, count: bytes / unit.utf8.count))
        } + [("random ASCII letters", random)]
    }

    func testMergeStepsGrowAsNLogNOnRunsWithoutSpaces() throws {
        let tokenizer = try GPT2Tokenizer.bundledGPT2()
        let sizes = [4_096, 16_384, 65_536]
        var steps = [String: [Int]]()
        for bytes in sizes {
            for (name, text) in runs(bytes: bytes) {
                XCTAssertEqual(GPT2PreTokenizer.pieces(of: text).count, 1, name)
                // Pieces this long never go through the piece cache, so every encode does the work.
                let before = tokenizer.mergeSteps
                _ = tokenizer.encode(text)
                steps[name, default: []].append(tokenizer.mergeSteps - before)
            }
        }
        for (name, counts) in steps.sorted(by: { $0.key < $1.key }) {
            for (small, large) in zip(counts, counts.dropFirst()) {
                // Work ∝ n^e when the input grows 4x: n log n gives e = 1 + log4(log 4n / log n),
                // 1.09-1.14 at these sizes, and n² gives 2; 1.5 lies halfway.
                let exponent = log(Double(large) / Double(small)) / log(4)
                XCTAssertLessThan(exponent, 1.5, "\(name): \(small) -> \(large) steps for 4x the bytes")
                XCTAssertGreaterThanOrEqual(exponent, 0.9, "\(name): \(small) -> \(large) steps for 4x the bytes")
            }
        }
    }
}
