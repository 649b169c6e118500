import Foundation
import PreferenceData
import XCTest

/// The plain chat template and templates read from files.
final class ChatTemplateTests: XCTestCase {
    private let conversation = [
        ChatMessage(role: .system, content: "Be brief."),
        ChatMessage(role: .user, content: "Hi"),
        ChatMessage(role: .assistant, content: "Hello"),
    ]

    func testPlainTemplate() {
        XCTAssertEqual(ChatTemplate.plain.render(conversation, addGenerationPrompt: false),
                       "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello<|endoftext|>")
        XCTAssertEqual(ChatTemplate.plain.render(Array(conversation.prefix(2)), addGenerationPrompt: true),
                       "System: Be brief.\n\nUser: Hi\n\nAssistant:")
    }

    func testContentIsNotReadAsAPattern() {
        let message = [ChatMessage(role: .user, content: "say {content}")]
        XCTAssertEqual(ChatTemplate.plain.render(message, addGenerationPrompt: false), "User: say {content}\n\n")
    }

    func testTemplateFromFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try #"{"system": "<s>{content}</s>", "user": "Q: {content}\n", "assistant": "A: {content}\n", "generationPrompt": "A:"}"#
            .write(to: url, atomically: true, encoding: .utf8)
        let template = try ChatTemplate.load(url)
        XCTAssertEqual(template.render(Array(conversation.dropFirst()), addGenerationPrompt: false), "Q: Hi\nA: Hello\n")

        try #"{"system": "{content}", "user": "Q:", "assistant": "A: {content}", "generationPrompt": "A:"}"#
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ChatTemplate.load(url)) {
            XCTAssertEqual("\($0)", "\(url.path):1: user: the pattern must contain {content}")
        }
    }
}
