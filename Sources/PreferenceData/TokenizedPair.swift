import Tokenizer

/// A preference example as token ids, split as TRL 1.x's `DPOTrainer` splits it, before truncation.
///
/// For text, `<|endoftext|>` is appended to each answer unless it already ends with it; for
/// conversations the chat template renders the prompt (with the generation prompt) and prompt plus
/// answer. The prompt is tokenized alone and jointly with each answer, and the completion starts
/// where the prompt's ids and the joint ids first differ, the smaller of the two positions: a BPE
/// merge across the boundary moves the prompt's last tokens into neither side, as in TRL.
public struct TokenizedPair: Equatable, Sendable {
    /// Prompt ids shared by both sequences.
    public var promptIDs: [Int32]
    /// Ids of the chosen completion (what follows `promptIDs` in tokenize(prompt + chosen)).
    public var chosenIDs: [Int32]
    /// Ids of the rejected completion.
    public var rejectedIDs: [Int32]
    /// True when the prompt tokenized alone was longer than its shared part (a merge across the boundary).
    public var promptWasCut: Bool

    public init(promptIDs: [Int32], chosenIDs: [Int32], rejectedIDs: [Int32], promptWasCut: Bool) {
        self.promptIDs = promptIDs
        self.chosenIDs = chosenIDs
        self.rejectedIDs = rejectedIDs
        self.promptWasCut = promptWasCut
    }

    /// Tokenizes `example` as TRL's `DPOTrainer._prepare_dataset` does.
    public init(_ example: PreferenceExample, tokenizer: GPT2Tokenizer, template: ChatTemplate) {
        let (prompt, promptChosen, promptRejected) = Self.texts(example, endOfText: tokenizer.endOfText, template: template)
        let promptIDs = tokenizer.encode(prompt)
        let chosen = tokenizer.encode(promptChosen)
        let rejected = tokenizer.encode(promptRejected)
        let shared = min(Self.commonPrefixLength(promptIDs, chosen), Self.commonPrefixLength(promptIDs, rejected))
        self.init(promptIDs: Array(promptIDs[..<shared]), chosenIDs: Array(chosen[shared...]),
                  rejectedIDs: Array(rejected[shared...]), promptWasCut: shared < promptIDs.count)
    }

    /// The prompt alone, prompt + chosen and prompt + rejected, as the texts TRL tokenizes.
    static func texts(
        _ example: PreferenceExample, endOfText: String, template: ChatTemplate
    ) -> (String, String, String) {
        switch (example.prompt, example.chosen, example.rejected) {
        case let (.text(prompt), .text(chosen), .text(rejected)):
            func ended(_ text: String) -> String {
                text.utf8.reversed().starts(with: endOfText.utf8.reversed()) ? text : text + endOfText
            }
            return (prompt, prompt + ended(chosen), prompt + ended(rejected))
        default:
            let prompt = example.prompt.messages
            return (template.render(prompt, addGenerationPrompt: true),
                    template.render(prompt + example.chosen.messages, addGenerationPrompt: false),
                    template.render(prompt + example.rejected.messages, addGenerationPrompt: false))
        }
    }

    private static func commonPrefixLength(_ a: [Int32], _ b: [Int32]) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }
}

extension PreferenceContent {
    /// The content as messages; plain text counts as one user (prompt) message.
    var messages: [ChatMessage] {
        switch self {
        case let .messages(messages): return messages
        case let .text(text): return [ChatMessage(role: .user, content: text)]
        }
    }
}
