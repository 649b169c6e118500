/// A LoRA setting, adapter or adapter file that cannot be used, with the reason in plain words
/// (naming the setting or the file).
public struct LoRAError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, for the user.
    public let description: String
    /// An error with the given message.
    public init(_ description: String) { self.description = description }
}
