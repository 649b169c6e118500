import GPT2
import PreferenceData

extension ReferenceCache {
    /// The reference log-probs of one micro-batch's pairs, scored by `model` (completion
    /// positions only), indexed by the pairs' `index` values, which must be 0..<pairs.
    /// `dpo-ddp bench --precompute-ref` uses it in place of a data set's cache.
    public static func compute(model: GPT2Model, batch: MicroBatch) throws -> ReferenceCache {
        precondition(batch.pairIndices == Array(0..<batch.pairIndices.count), "pairs must be indexed 0..<pairs")
        let logps = try SequenceScores(model: model, scoring: ScoringInput(batch)).logps
        let pairs = batch.pairIndices.count
        return ReferenceCache(chosen: Array(logps[..<pairs]), rejected: Array(logps[pairs...]))
    }
}
