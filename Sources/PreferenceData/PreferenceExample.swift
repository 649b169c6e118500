/// Text or a conversation: one side of a preference example.
public enum PreferenceContent: Equatable, Sendable {
    /// Plain text, tokenized as it is (TRL's non-conversational path).
    case text(String)
    /// Chat messages, rendered with the chat template (TRL's conversational path).
    case messages([ChatMessage])
}

/// One preference example before tokenization: a prompt with a preferred and a dispreferred answer.
public struct PreferenceExample: Equatable, Sendable {
    /// Line of the row in its file.
    public var line: Int
    /// The context both answers follow.
    public var prompt: PreferenceContent
    /// The preferred answer.
    public var chosen: PreferenceContent
    /// The dispreferred answer.
    public var rejected: PreferenceContent

    public init(line: Int, prompt: PreferenceContent, chosen: PreferenceContent, rejected: PreferenceContent) {
        self.line = line
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
    }

    /// True when the two answers are the same (such a pair teaches nothing; the loader counts them).
    public var answersAreIdentical: Bool {
        switch (chosen, rejected) {
        case let (.text(chosen), .text(rejected)):
            return chosen.unicodeScalars.elementsEqual(rejected.unicodeScalars)
        case let (.messages(chosen), .messages(rejected)):
            return chosen.count == rejected.count && zip(chosen, rejected).allSatisfy { $0.isIdentical(to: $1) }
        default:
            return false
        }
    }
}
