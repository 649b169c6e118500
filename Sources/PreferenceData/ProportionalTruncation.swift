/// How `truncation_mode: proportional` shares `max_length` between a prompt and its responses:
/// LLaMA-Factory's `infer_seqlen(source_len, target_len, cutoff_len)`
/// (`src/llamafactory/data/processor/processor_utils.py`), computed with the same float64 steps.
public enum ProportionalTruncation {
    /// The prompt and response lengths kept when a prompt of `prompt` tokens and a (longer)
    /// response of `response` tokens must fit `maxLength` together.
    ///
    /// A response shorter than half the budget is kept whole and the prompt gets the rest; else a
    /// prompt shorter than half is kept whole and the response gets the rest; else both are cut,
    /// the response keeping `Int(maxLength × response / (prompt + response))` tokens (rounded
    /// down) and the prompt the remainder.
    public static func lengths(prompt: Int, response: Int, maxLength: Int) -> (prompt: Int, response: Int) {
        let maxResponse: Int
        if response * 2 < maxLength {
            maxResponse = maxLength
        } else if prompt * 2 < maxLength {
            maxResponse = maxLength - prompt
        } else {
            maxResponse = Int(Double(maxLength) * (Double(response) / Double(prompt + response)))
        }
        let keptResponse = min(maxResponse, response)
        return (min(max(maxLength - keptResponse, 0), prompt), keptResponse)
    }
}
