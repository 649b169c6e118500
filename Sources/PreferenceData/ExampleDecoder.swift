/// Turns rows of each `DataFormat` into `PreferenceExample`s, failing on the first bad field.
///
/// LLaMA-Factory rows become conversations: alpaca's `instruction` and `input` are joined by a
/// newline into one user message (as LLaMA-Factory does) and its answers become assistant messages;
/// ShareGPT's `from` values `system`, `human`, `gpt` map to system, user and assistant, the
/// conversation must end with a `human` turn and `chosen`/`rejected` must come from `gpt`.
enum ExampleDecoder {
    static func decode(_ row: RowFields, as format: DataFormat) throws -> PreferenceExample {
        switch format {
        case .standard:
            return PreferenceExample(
                line: row.line, prompt: .text(try row.string("prompt")),
                chosen: .text(try row.string("chosen")), rejected: .text(try row.string("rejected")))
        case .conversational:
            return PreferenceExample(
                line: row.line, prompt: .messages(try messages(row, "prompt")),
                chosen: .messages(try messages(row, "chosen")), rejected: .messages(try messages(row, "rejected")))
        case .implicitPrompt:
            return try implicitPrompt(row)
        case .alpaca:
            var request = try row.string("instruction")
            if let input = try row.optionalString("input"), !input.isEmpty { request += "\n" + input }
            return PreferenceExample(
                line: row.line, prompt: .messages([ChatMessage(role: .user, content: request)]),
                chosen: .messages([ChatMessage(role: .assistant, content: try row.string("chosen"))]),
                rejected: .messages([ChatMessage(role: .assistant, content: try row.string("rejected"))]))
        case .sharegpt:
            return try sharegpt(row)
        }
    }

    private static func implicitPrompt(_ row: RowFields) throws -> PreferenceExample {
        if row.isArray("chosen") {
            let (prompt, chosen, rejected) = ImplicitPrompt.split(
                chosen: try messages(row, "chosen"), rejected: try messages(row, "rejected"))
            return PreferenceExample(line: row.line, prompt: .messages(prompt), chosen: .messages(chosen),
                                     rejected: .messages(rejected))
        }
        let (prompt, chosen, rejected) = ImplicitPrompt.split(
            chosen: try row.string("chosen"), rejected: try row.string("rejected"))
        return PreferenceExample(line: row.line, prompt: .text(prompt), chosen: .text(chosen), rejected: .text(rejected))
    }

    /// A TRL conversation: `[{role, content}]` with role system, user or assistant.
    private static func messages(_ row: RowFields, _ key: String) throws -> [ChatMessage] {
        try row.objects(key).map { message in
            let role = try message.string("role")
            guard let chatRole = ChatRole(rawValue: role) else {
                throw message.error("role", .invalidValue("unknown role \"\(role)\"; expected system, user or assistant"))
            }
            return ChatMessage(role: chatRole, content: try message.string("content"))
        }
    }

    private static let sharegptRoles: [String: ChatRole] = ["system": .system, "human": .user, "gpt": .assistant]

    private static func sharegptMessage(_ message: RowFields, allowed: Set<ChatRole>) throws -> ChatMessage {
        let from = try message.string("from")
        guard let role = sharegptRoles[from], allowed.contains(role) else {
            let expected = sharegptRoles.filter { allowed.contains($0.value) }.keys.sorted().joined(separator: " or ")
            throw message.error("from", .invalidValue("unexpected \"\(from)\"; expected \(expected)"))
        }
        return ChatMessage(role: role, content: try message.string("value"))
    }

    private static func sharegpt(_ row: RowFields) throws -> PreferenceExample {
        let turns = try row.objects("conversations")
        let prompt = try turns.map { try sharegptMessage($0, allowed: [.system, .user, .assistant]) }
        if prompt.last?.role != .user, let last = turns.last {
            throw last.error("from", .invalidValue("the conversation must end with a \"human\" turn"))
        }
        return PreferenceExample(
            line: row.line, prompt: .messages(prompt),
            chosen: .messages([try sharegptMessage(try row.object("chosen"), allowed: [.assistant])]),
            rejected: .messages([try sharegptMessage(try row.object("rejected"), allowed: [.assistant])]))
    }
}
