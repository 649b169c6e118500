import Foundation

/// How conversational rows become text. GPT-2 has no chat template, so the project defines a plain one.
///
/// Each message is its role's pattern with `{content}` replaced by the message text; a prompt
/// rendered for generation ends with `generationPrompt`. The default (`ChatTemplate.plain`) renders
///
///     System: {content}\n\nUser: {content}\n\nAssistant: {content}<|endoftext|>
///
/// and a prompt for generation ends with `Assistant:`, so the completion starts with `" "` plus the
/// answer and the boundary falls between tokens. Equal to this Jinja template in `transformers`:
///
///     {% for m in messages %}{% if m['role'] == 'system' %}System: {{ m['content'] }}\n\n{% elif m['role'] == 'user' %}User: {{ m['content'] }}\n\n{% else %}Assistant: {{ m['content'] }}<|endoftext|>{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}
public struct ChatTemplate: Equatable, Sendable, Codable {
    /// Pattern of a system message; must contain `{content}`.
    public var system: String
    /// Pattern of a user message; must contain `{content}`.
    public var user: String
    /// Pattern of an assistant message; must contain `{content}`.
    public var assistant: String
    /// Text that ends a prompt rendered for generation.
    public var generationPrompt: String

    /// The placeholder each pattern must contain.
    public static let placeholder = "{content}"

    /// The project's default plain template (see the type's documentation).
    public static let plain = ChatTemplate(
        system: "System: {content}\n\n", user: "User: {content}\n\n",
        assistant: "Assistant: {content}<|endoftext|>", generationPrompt: "Assistant:")

    public init(system: String, user: String, assistant: String, generationPrompt: String) {
        self.system = system
        self.user = user
        self.assistant = assistant
        self.generationPrompt = generationPrompt
    }

    /// Reads a template from a JSON file with the keys `system`, `user`, `assistant`, `generationPrompt`.
    public static func load(_ url: URL) throws -> ChatTemplate {
        let file = url.path
        guard let record = try JSONRecords.read(url).first else {
            throw PreferenceDataError(file: file, problem: .empty)
        }
        let fields = RowFields(file: file, line: record.line, object: record.object)
        let template = ChatTemplate(
            system: try fields.string("system"), user: try fields.string("user"),
            assistant: try fields.string("assistant"),
            generationPrompt: try fields.string("generationPrompt", allowEmpty: true))
        for role in ChatRole.allCases where !template.pattern(for: role).contains(placeholder) {
            throw PreferenceDataError(
                file: file, line: record.line, field: role.rawValue,
                problem: .invalidValue("the pattern must contain \(placeholder)"))
        }
        return template
    }

    /// The pattern of one role's messages.
    public func pattern(for role: ChatRole) -> String {
        switch role {
        case .system: return system
        case .user: return user
        case .assistant: return assistant
        }
    }

    /// The text of `messages`, followed by `generationPrompt` when `addGenerationPrompt` is set.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var text = ""
        for message in messages {
            let pattern = pattern(for: message.role)
            if let range = pattern.range(of: Self.placeholder) {
                text += pattern[..<range.lowerBound] + message.content + pattern[range.upperBound...]
            } else {
                text += pattern
            }
        }
        return addGenerationPrompt ? text + generationPrompt : text
    }
}
