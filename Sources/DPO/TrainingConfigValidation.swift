import Foundation
import GPT2

extension TrainingConfig {
    /// Refuses a configuration that cannot run on `worldSize` ranks, before any work starts:
    /// every message names the option and what it accepts.
    public func validate(worldSize: Int) throws {
        func fail(_ message: String) throws -> Never { throw TrainingError(message) }
        let manager = FileManager.default
        if data.isEmpty { try fail("data: no training data given (--data FILE)") }
        for (key, path) in dataFiles.map({ ("data", $0 as String?) }) + [("eval_data", evalData), ("ref_model", refModel),
                            ("chat_template", chatTemplate), ("tokenizer", tokenizer)] {
            if let path, !manager.fileExists(atPath: path) { try fail("\(key): \(path) does not exist") }
        }
        if GPT2Config.named(model) == nil && !manager.fileExists(atPath: model) {
            try fail("model: \(model) is neither a checkpoint directory nor a size name ("
                + GPT2Config.namedSizes.map(\.name).joined(separator: ", ") + ")")
        }
        if let unknown = loss.first(where: { LossType(rawValue: $0) == nil }) {
            try fail("loss: unknown loss type \(unknown) (one of \(LossType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        do {
            try lossSettings.validate()
        } catch {
            try fail("\(error)")
        }
        if !(learningRate > 0) { try fail("learning_rate must be > 0, got \(learningRate)") }
        if let sft = sftLearningRate, !(sft > 0) { try fail("sft_learning_rate must be > 0, got \(sft)") }
        if batchSize < 1 { try fail("batch_size must be >= 1, got \(batchSize)") }
        let micro = microBatchSize ?? batchSize / worldSize
        if micro < 1 || batchSize % (micro * worldSize) != 0 {
            try fail("batch_size \(batchSize) is not a whole number of micro-batches: it must be a multiple of "
                + "micro_batch_size (\(micro)) x ranks (\(worldSize))")
        }
        if let maxSteps, maxSteps < 1 { try fail("max_steps must be >= 1, got \(maxSteps)") }
        if maxSteps == nil && !(epochs > 0) { try fail("epochs must be > 0, got \(epochs)") }
        if sftSteps < 0 { try fail("sft_steps must be >= 0, got \(sftSteps)") }
        if maxLength < 2 { try fail("max_length must be >= 2, got \(maxLength)") }
        if warmupSteps < 0 { try fail("warmup_steps must be >= 0, got \(warmupSteps)") }
        if !(warmupRatio >= 0 && warmupRatio < 1) { try fail("warmup_ratio must be in [0, 1), got \(warmupRatio)") }
        if !(maxGradNorm >= 0) { try fail("max_grad_norm must be >= 0 (0 disables clipping), got \(maxGradNorm)") }
        if !(weightDecay >= 0) { try fail("weight_decay must be >= 0, got \(weightDecay)") }
        for (key, value) in [("adam_beta1", adamBeta1), ("adam_beta2", adamBeta2)] where !(value >= 0 && value < 1) {
            try fail("\(key) must be in [0, 1), got \(value)")
        }
        if !(adamEpsilon > 0) { try fail("adam_epsilon must be > 0, got \(adamEpsilon)") }
        if loggingSteps < 1 { try fail("logging_steps must be >= 1, got \(loggingSteps)") }
        for (key, value) in [("eval_steps", evalSteps), ("save_steps", saveSteps)] where value < 0 {
            try fail("\(key) must be >= 0 (0: only at the end), got \(value)")
        }
        if let limit = saveTotalLimit, limit < 1 { try fail("save_total_limit must be >= 1, got \(limit)") }
        if let threads, threads < 1 { try fail("threads must be >= 1, got \(threads)") }
        if ![0, 1, 2].contains(zero) {
            try fail("zero must be 0 (every rank holds all optimiser state), 1 (ZeRO-1: optimiser state sharded over ranks) "
                + "or 2 (ZeRO-2: optimiser state and gradient sharded over ranks), got \(zero)")
        }
        if !(collectiveTimeout >= 0) {
            try fail("collective_timeout must be >= 0 seconds (0: wait forever), got \(collectiveTimeout)")
        }
        if !(bucketCapMB >= 0) { try fail("bucket_cap_mb must be >= 0 (0: one all-reduce after the backward pass), got \(bucketCapMB)") }
        if failAtStep != nil && !debug { try fail("fail_at_step is a debugging aid: it needs --debug") }
        if !(0..<worldSize).contains(failRank) { try fail("fail_rank must be a rank in 0..<\(worldSize), got \(failRank)") }
        if referenceFree, let refModel {
            try fail("reference_free and ref_model conflict: reference_free uses no reference model, yet ref_model names \(refModel); drop one")
        }
        if let size = precomputeRefBatchSize {
            if size < 1 { try fail("precompute_ref_batch_size must be >= 1, got \(size)") }
            if !precomputeRef { try fail("precompute_ref_batch_size \(size) has no effect without precompute_ref; set precompute_ref or drop it") }
        }
        if syncRefModel {
            if precomputeRef {
                try fail("sync_ref_model and precompute_ref conflict: the cache holds the fixed reference's log-probs, which go stale once the reference is updated; drop one")
            }
            if !lossSettings.needsReference {
                try fail("sync_ref_model has nothing to update: the loss \(loss.joined(separator: ",")) uses no reference")
            }
            if !(refModelMixupAlpha >= 0 && refModelMixupAlpha <= 1) {
                try fail("ref_model_mixup_alpha must lie in [0, 1] (the policy's share of the new reference), got \(refModelMixupAlpha)")
            }
            if refModelSyncSteps < 1 { try fail("ref_model_sync_steps must be >= 1, got \(refModelSyncSteps)") }
        }
        if precomputeRef && lossSettings.needsTokenLogProbs {
            try fail("precompute_ref cannot serve loss token_pair: it caches summed reference log-probs, token_pair reads them token by token; drop precompute_ref")
        }
        try validateDataSettings()
        try validateLoRASettings()
        if precomputeRef && !lossSettings.needsReference {
            try fail("precompute_ref has nothing to do: the loss \(loss.joined(separator: ",")) uses no reference")
        }
    }
}
