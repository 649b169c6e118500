import Foundation
import PreferenceData
import Tokenizer
import XCTest

/// Every kind of bad input gives a `PreferenceDataError` whose one-line message names file, line and field.
final class BadInputTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    /// Writes `bytes` to `name`, reads it, and checks the error's message and line.
    private func assertError(
        _ bytes: [UInt8], name: String = "data.jsonl", format: DataFormat? = nil, line: Int?, field: String? = nil,
        contains reason: String, file: StaticString = #filePath, testLine: UInt = #line
    ) throws {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try PreferenceDataset.examples(at: url, format: format), file: file, line: testLine) { error in
            guard let error = error as? PreferenceDataError else {
                return XCTFail("not a PreferenceDataError: \(error)", file: file, line: testLine)
            }
            let message = "\(error)"
            var place = url.path
            if let line { place += ":\(line)" }
            if let field { place += ": \(field)" }
            XCTAssertTrue(message.hasPrefix(place + ": "), "\(message) does not start with \(place)", file: file, line: testLine)
            XCTAssertTrue(message.contains(reason), "\(message) lacks \(reason)", file: file, line: testLine)
            XCTAssertFalse(message.contains("\n"), "message is not one line", file: file, line: testLine)
            XCTAssertEqual(error.line, line, file: file, line: testLine)
            XCTAssertEqual(error.field, field, file: file, line: testLine)
        }
    }

    private func assertError(
        _ text: String, name: String = "data.jsonl", format: DataFormat? = nil, line: Int?, field: String? = nil,
        contains reason: String, file: StaticString = #filePath, testLine: UInt = #line
    ) throws {
        try assertError(Array(text.utf8), name: name, format: format, line: line, field: field, contains: reason,
                        file: file, testLine: testLine)
    }

    private let good = #"{"prompt": "p", "chosen": "c", "rejected": "r"}"#

    func testMalformedJSONLine() throws {
        try assertError("\(good)\n\(good)\n{\"prompt\": \"p\", \"chosen\": \n", line: 3, contains: "malformed JSON")
    }

    func testMalformedElementOfAJSONArray() throws {
        try assertError("[\n \(good),\n {\"prompt\": \"p\" \"chosen\": \"c\"}\n]\n", name: "data.json", line: 3,
                        contains: "malformed JSON")
        try assertError("[\n \(good),\n \(good)\n", name: "data.json", line: 3, contains: "the array is not closed")
        try assertError("[\n \(good)\n]\nextra", name: "data.json", line: 4, contains: "text after the closing ]")
    }

    func testMissingField() throws {
        try assertError("\(good)\n\n{\"prompt\": \"p\", \"chosen\": \"c\"}\n", line: 3, field: "rejected",
                        contains: "missing field")
    }

    func testEmptyField() throws {
        try assertError("\(good)\n{\"prompt\": \"p\", \"chosen\": \"\", \"rejected\": \"r\"}", line: 2, field: "chosen",
                        contains: "empty field")
    }

    func testWrongType() throws {
        try assertError("{\"prompt\": \"p\", \"chosen\": 3, \"rejected\": \"r\"}", line: 1, field: "chosen",
                        contains: "expected a string, found a number")
        try assertError("\(good)\n[1, 2]", line: 2, field: "row", contains: "expected an object, found an array")
        try assertError("{\"prompt\": [{\"role\": \"user\", \"content\": \"q\"}], \"chosen\": \"c\", \"rejected\": \"r\"}",
                        format: .conversational, line: 1, field: "chosen",
                        contains: "expected an array of objects, found a string")
    }

    func testInvalidUTF8() throws {
        var bytes = Array("\(good)\n{\"prompt\": \"p".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\", \"chosen\": \"c\", \"rejected\": \"r\"}\n".utf8)
        try assertError(bytes, line: 2, contains: "invalid UTF-8")
    }

    func testEmptyFiles() throws {
        try assertError("", line: nil, contains: "no rows")
        try assertError(" \n\n  \n", line: nil, contains: "no rows")
        try assertError("[\n]\n", name: "data.json", line: nil, contains: "no rows")
    }

    func testUnknownFormat() throws {
        try assertError("\n{\"question\": \"q\", \"answer\": \"a\"}\n", line: 2, contains: "unknown data format for keys [answer, question]")
    }

    func testShareGPTRolesAreChecked() throws {
        let conversation = #""conversations": [{"from": "human", "value": "hi"}, {"from": "bot", "value": "x"}]"#
        try assertError("[{\(conversation), \"chosen\": {\"from\": \"gpt\", \"value\": \"a\"}, \"rejected\": {\"from\": \"gpt\", \"value\": \"b\"}}]",
                        name: "data.json", line: 1, field: "conversations[1].from", contains: "unexpected \"bot\"")
        let human = #""conversations": [{"from": "human", "value": "hi"}]"#
        try assertError("[\n{\(human), \"chosen\": {\"from\": \"human\", \"value\": \"a\"}, \"rejected\": {\"from\": \"gpt\", \"value\": \"b\"}}]",
                        name: "data.json", line: 2, field: "chosen.from", contains: "expected gpt")
        try assertError("[{\(human), \"chosen\": {\"from\": \"gpt\", \"value\": \"a\"}, \"rejected\": {\"from\": \"gpt\", \"value\": \"\"}}]",
                        name: "data.json", line: 1, field: "rejected.value", contains: "empty field")
    }

    func testConversationalRolesAreChecked() throws {
        try assertError("{\"prompt\": [{\"role\": \"robot\", \"content\": \"q\"}], \"chosen\": [{\"role\": \"assistant\", \"content\": \"a\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"b\"}]}",
                        line: 1, field: "prompt[0].role", contains: "unknown role \"robot\"")
    }

    func testUnreadableFile() throws {
        XCTAssertThrowsError(try PreferenceDataset.examples(at: directory.appendingPathComponent("missing.jsonl"), format: nil)) {
            XCTAssertTrue("\($0)".contains("missing.jsonl: cannot read"), "\($0)")
        }
    }

    func testIdenticalAnswersAreCountedWithTheirLines() throws {
        let dataset = try PreferenceDataset.load(
            url: FixtureFiles.url("formats/standard.jsonl"), tokenizer: GPT2Tokenizer.bundledGPT2(), settings: .init())
        XCTAssertEqual(dataset.report.identicalAnswerLines, [6])
        XCTAssertEqual(dataset.pairs.count, 7)
    }
}
