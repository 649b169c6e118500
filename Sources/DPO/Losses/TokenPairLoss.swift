/// The seed's token-level DPO (`token_pair`): chosen token t is paired with rejected token t, and a
/// pair's loss is the mean over t < min(n₊, n₋) of −log σ(β·x_t), where
/// x_t = (log π(c_t) − log π(r_t)) − (log π_ref(c_t) − log π_ref(r_t)).
struct TokenPairLoss {
    /// β.
    let beta: Double

    /// The loss of one pair and its derivative by each policy token log-prob (0 beyond the shared
    /// length); a pair with an empty completion has loss 0.
    func term(_ tokens: TokenLogProbs) -> (value: Double, dChosen: [Double], dRejected: [Double]) {
        let shared = min(tokens.policyChosen.count, tokens.policyRejected.count)
        var dChosen = [Double](repeating: 0, count: tokens.policyChosen.count)
        var dRejected = [Double](repeating: 0, count: tokens.policyRejected.count)
        guard shared > 0 else { return (0, dChosen, dRejected) }
        var value = 0.0
        for t in 0..<shared {
            let x = beta * ((tokens.policyChosen[t] - tokens.policyRejected[t])
                - (tokens.referenceChosen[t] - tokens.referenceRejected[t]))
            value -= logSigmoid(x)
            let d = -beta * logistic(-x) / Double(shared)
            dChosen[t] = d
            dRejected[t] = -d
        }
        return (value / Double(shared), dChosen, dRejected)
    }
}
