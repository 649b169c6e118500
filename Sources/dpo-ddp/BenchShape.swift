/// The shape of one rank's work in a benchmark step: `pairs` pairs, each a prompt of
/// `promptTokens` shared by two completions of `completionTokens`.
struct BenchShape {
    /// Pairs per rank per step.
    var pairs: Int
    /// Prompt tokens of each pair.
    var promptTokens: Int
    /// Tokens of each completion.
    var completionTokens: Int

    /// Tokens of one row (prompt + completion).
    var sequenceLength: Int { promptTokens + completionTokens }

    /// Token positions one forward pass covers: [chosen; rejected] rows.
    var tokens: Int { 2 * pairs * sequenceLength }

    /// Rows one forward pass covers when each pair runs as [prompt | chosen | rejected].
    var sharedPromptRows: Int { pairs * (promptTokens + 2 * completionTokens) }

    /// Positions whose next token is a completion token (what the trainer projects).
    var completionPositions: Int { 2 * pairs * completionTokens }
}
