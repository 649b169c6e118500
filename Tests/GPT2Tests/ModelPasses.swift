import GPT2
import XCTest

/// Two pairs as the trainer lays them out: each a shared prompt, then chosen and rejected
/// completions that both attend to it, with targets on the completion rows (token ids < 64).
func pairsInput(promptLength: Int = 5, completionLength: Int = 6) -> GPT2Input {
    var input = GPT2Input()
    for pair in 0..<2 {
        let prompt = input.appendSequence((0..<promptLength).map { Int32((7 * pair + 3 * $0 + 1) % 64) })
        for answer in 0..<2 {
            let ids = (0..<completionLength).map { Int32((11 * pair + 5 * answer + 13 * $0 + 2) % 64) }
            let rows = input.appendSequence(ids, firstPosition: promptLength, prefix: prompt)
            for (k, row) in rows.dropLast().enumerated() { input.addTarget(row: row, token: ids[k + 1]) }
        }
    }
    return input
}

/// What one micro-step after another leaves: each forward's log-probs, the accumulated
/// gradients, and the offsets `onGradientsFinal` reported, in order.
func microSteps(_ model: GPT2Model, _ inputs: [GPT2Input]) throws -> (logps: [[Float]], gradients: [Float], offsets: [Int]) {
    var offsets: [Int] = []
    model.onGradientsFinal = { offsets.append($0) }
    model.zeroGradients()
    var logps: [[Float]] = []
    for input in inputs {
        let logp = Array(try model.forward(input))
        logps.append(logp)
        // A different weight per target, of both signs, so every row's gradient matters.
        let dlogp = logp.indices.map { Float($0 % 3) - 0.75 }
        dlogp.withUnsafeBufferPointer { model.backward(dlogp: $0) }
    }
    return (logps, try XCTUnwrap(model.gradients).array, offsets)
}
