/// Who speaks a chat message.
public enum ChatRole: String, Sendable, Codable, CaseIterable {
    case system, user, assistant
}

/// One chat message.
public struct ChatMessage: Equatable, Sendable {
    /// Who speaks.
    public var role: ChatRole
    /// What is said.
    public var content: String

    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }

    /// Same role and same content scalar by scalar, as Python compares (Swift's `==` on strings
    /// also equates canonically equivalent spellings such as `é` and `e` + U+0301).
    public func isIdentical(to other: ChatMessage) -> Bool {
        role == other.role && content.unicodeScalars.elementsEqual(other.content.unicodeScalars)
    }
}
