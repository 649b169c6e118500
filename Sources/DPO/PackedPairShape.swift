import GPT2

/// The forward shapes of micro-batches of preference pairs, packed as `ScoringInput` packs them.
extension ForwardShape {
    /// `pairs` pairs of a `promptTokens`-token prompt (at least 1) and two `completionTokens`-token
    /// completions. With `sharedPrompt` each pair is `[prompt | chosen | rejected]`: rows p + 2c,
    /// probabilities (p + c)² for the chosen segment and c·(p + c) for the rejected one; without,
    /// two sequences of p + c rows, (p + c)² probabilities each. Targets: 2c per pair.
    public static func pairs(_ pairs: Int, promptTokens p: Int, completionTokens c: Int, sharedPrompt: Bool = true) -> ForwardShape {
        let row = p + c
        return sharedPrompt
            ? ForwardShape(rows: pairs * (p + 2 * c), probabilitiesPerHead: pairs * (row * row + c * row), targets: pairs * 2 * c)
            : ForwardShape(rows: pairs * 2 * row, probabilitiesPerHead: pairs * 2 * row * row, targets: pairs * 2 * c)
    }

    /// The largest shape a micro-batch of `pairs` pairs can take when every sequence (prompt +
    /// completion) has at most `maxLength` tokens, shared prompt or not: per pair 2·L rows (a
    /// shared prompt of p tokens gives p + 2·(L − p) ≤ 2·L; an empty one is not shared), 2·L²
    /// probabilities per head, 2·(L − 1) targets (a row's first token is never a target).
    public static func longestPairs(_ pairs: Int, maxLength l: Int) -> ForwardShape {
        ForwardShape(rows: pairs * 2 * l, probabilitiesPerHead: pairs * 2 * l * l, targets: pairs * 2 * (l - 1))
    }
}
