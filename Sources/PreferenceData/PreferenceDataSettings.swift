/// How a data set is read and tokenized: the data-loading options of `dpo-ddp train`.
public struct PreferenceDataSettings: Equatable, Sendable {
    /// `--data-format`: the rows' layout, or nil to detect it from the first row.
    public var format: DataFormat?
    /// `--max-length`: most tokens in prompt + completion per sequence (TRL `max_length`), or nil
    /// for no truncation. Default 1024, GPT-2's context.
    public var maxLength: Int?
    /// `--truncation-mode`: which end of a longer sequence is kept. Default `keep_start`, as TRL.
    public var truncationMode: TruncationMode
    /// `--chat-template FILE`: how conversational rows become text. Default `ChatTemplate.plain`.
    public var chatTemplate: ChatTemplate
    /// `--max-samples`: use only the first N rows of the file (after every row is checked), or nil for all.
    public var maxSamples: Int?

    public init(
        format: DataFormat? = nil, maxLength: Int? = 1024, truncationMode: TruncationMode = .keepStart,
        chatTemplate: ChatTemplate = .plain, maxSamples: Int? = nil
    ) {
        self.format = format
        self.maxLength = maxLength
        self.truncationMode = truncationMode
        self.chatTemplate = chatTemplate
        self.maxSamples = maxSamples
    }
}
