import DPO
import Distributed

extension TrainCommand {
    /// Prints the memory plan (rank 0) and, unless `--ignore-memory-check`, refuses a run whose
    /// ranks on some node need more than that node's memory, before anything is written. Every
    /// rank checks its own node; the refusal is agreed by all ranks, and rank 0 names the reason.
    func checkMemory(config: TrainingConfig, communicator: any Communicator) throws {
        let plan = MemoryPlan(try MemoryPlanSettings(config: config, ranks: communicator.size))
        let memory = try NodeMemory.bytes()
        let local = NodeMemory.localRanks(worldSize: communicator.size)
        if communicator.rank == 0 { print(plan.summary(localRanks: local, memory: memory)) }
        guard !ignoreMemoryCheck, let memory else { return }
        let refusal = MemoryCheck.refusal(plan: plan, localRanks: local, memory: memory)
        var refused = [Int64(refusal == nil ? 0 : 1)]
        try refused.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        guard refused[0] == 0 else {
            throw TrainingError("train: " + (refusal ?? "another node's ranks do not fit its memory (see its rank's plan)"))
        }
    }
}
