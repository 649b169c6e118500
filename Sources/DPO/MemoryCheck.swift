/// `train`'s refusal of a run whose memory plan does not fit the node, before any work.
public enum MemoryCheck {
    /// nil when `plan` for `localRanks` ranks on this node fits `memory` bytes; else the message
    /// for the user: what the node needs and has, the biggest components, and the settings that
    /// would shrink them.
    public static func refusal(plan: MemoryPlan, localRanks: Int, memory: (bytes: Int, source: String)) -> String? {
        let needed = plan.nodeBytes(localRanks: localRanks)
        guard needed > memory.bytes else { return nil }
        let biggest = plan.components.sorted { $0.bytes > $1.bytes }.prefix(3)
        let phase = plan.phases.filter { $0.bytes > plan.stepBytes }.max { $0.bytes < $1.bytes }
        return "this run needs about \(MemoryPlan.gigabytes(needed)) of memory on this node "
            + "(\(localRanks) rank(s), \(MemoryPlan.gigabytes(plan.stepBytes)) per rank per step"
            + (phase.map { ", \(MemoryPlan.gigabytes($0.bytes)) on rank 0 at \($0.name)" } ?? "")
            + "), but it has \(MemoryPlan.gigabytes(memory.bytes)) (\(memory.source)). Biggest per rank: "
            + biggest.map { "\($0.name) \(MemoryPlan.gigabytes($0.bytes))" }.joined(separator: ", ")
            + ". Would help: " + remedies(plan: plan, localRanks: localRanks).joined(separator: "; ")
            + ". `dpo-ddp plan` with the same options shows every component; --ignore-memory-check runs it anyway"
    }

    /// The settings that would shrink the biggest components, largest first.
    static func remedies(plan: MemoryPlan, localRanks: Int) -> [String] {
        let s = plan.settings
        var remedies: [(bytes: Int, text: String)] = []
        if !s.gradientCheckpointing {
            remedies.append((plan["activations"], "--gradient-checkpointing (activations)"))
        }
        if s.reference == .live {
            remedies.append((plan["reference_weights"] + plan["reference_activations"], "--precompute-ref (no reference model during training)"))
        }
        if s.ranks > 1 && s.zero < 1 { remedies.append((plan["adamw_moments"], "--zero 1 (AdamW moments sharded over ranks)")) }
        if s.ranks > 1 && s.zero < 2 { remedies.append((plan["gradients"], "--zero 2 (gradients sharded over ranks)")) }
        if s.bf16 { remedies.append((plan["bf16_weights"] + plan["bf16_scratch"], "no --bf16 (its bfloat16 copies)")) }
        if localRanks > 1 { remedies.append((plan.stepBytes, "fewer ranks per node")) }
        remedies.sort { $0.bytes > $1.bytes }
        return remedies.map(\.text) + ["a smaller --micro-batch-size (more gradient accumulation) or --max-length"]
    }
}
