/// TRL's `extract_prompt` (trl/data_utils.py, TRL 1.x): splits a shared prompt off two answers that
/// both start with it.
///
/// It scans up to the shorter answer's length for the first position where they differ (Unicode
/// scalars for text, whole messages for conversations) and, for text, backs off one if the
/// character before it is a space, so the completions start with the space. If no difference is
/// found the split falls one before the end of the shorter answer, as TRL's loop leaves it.
/// One TRL quirk is not copied: when the very first character differs TRL looks at the *last*
/// character (`chosen[-1]`); here the prompt is then empty.
enum ImplicitPrompt {
    /// `(prompt, chosen, rejected)` split at the first difference of `chosen` and `rejected`.
    static func split(chosen: String, rejected: String) -> (String, String, String) {
        let chosenScalars = Array(chosen.unicodeScalars)
        let rejectedScalars = Array(rejected.unicodeScalars)
        let shorter = min(chosenScalars.count, rejectedScalars.count)
        var split = max(shorter - 1, 0)
        if let difference = firstDifference(chosenScalars, rejectedScalars, same: ==) {
            split = difference > 0 && chosenScalars[difference - 1] == " " ? difference - 1 : difference
        }
        return (string(chosenScalars[..<split]), string(chosenScalars[split...]), string(rejectedScalars[split...]))
    }

    /// `(prompt, chosen, rejected)` split at the first message where the conversations differ.
    static func split(chosen: [ChatMessage], rejected: [ChatMessage]) -> ([ChatMessage], [ChatMessage], [ChatMessage]) {
        let split = firstDifference(chosen, rejected) { $0.isIdentical(to: $1) }
            ?? max(min(chosen.count, rejected.count) - 1, 0)
        return (Array(chosen[..<split]), Array(chosen[split...]), Array(rejected[split...]))
    }

    /// The index of the first difference within the shorter length, if there is one. Python compares
    /// strings scalar by scalar, so `same` must too.
    private static func firstDifference<T>(_ a: [T], _ b: [T], same: (T, T) -> Bool) -> Int? {
        (0..<min(a.count, b.count)).first { !same(a[$0], b[$0]) }
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
