import Foundation

/// The memory of the machine a rank runs on, and how many ranks of the job share it.
public enum NodeMemory {
    /// Environment variable that replaces the machine's memory, in GB (10⁹ bytes), for `train`'s
    /// memory check and `plan`'s default `--memory-gb`: to plan for another machine, or to test
    /// the check without a small machine.
    public static let overrideVariable = "DPO_DDP_NODE_MEMORY_GB"

    /// The memory available to this process in bytes, and where the number comes from: the
    /// override when set; else `MemTotal` of /proc/meminfo, or the cgroup's limit
    /// (/sys/fs/cgroup/memory.max, cgroup v2) when a container sets a lower one; nil when neither
    /// can be read.
    public static func bytes(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> (bytes: Int, source: String)? {
        if let text = environment[overrideVariable] {
            guard let gb = Double(text), gb > 0 else {
                throw TrainingError("\(overrideVariable)=\(text): not a positive number of GB")
            }
            return (Int(gb * 1e9), overrideVariable)
        }
        guard let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        let total = kib * 1024
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit < total {
            return (limit, "/sys/fs/cgroup/memory.max")
        }
        return (total, "MemTotal of /proc/meminfo")
    }

    /// Ranks of the job on this node: what the launcher says (Open MPI's
    /// `OMPI_COMM_WORLD_LOCAL_SIZE`, MPICH's `MPI_LOCALNRANKS`, Slurm's `SLURM_NTASKS_PER_NODE`),
    /// else all `worldSize` ranks (the cautious guess).
    public static func localRanks(worldSize: Int, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        guard worldSize > 1 else { return 1 }
        for key in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"] {
            if let value = environment[key].flatMap({ Int($0) }), value >= 1 { return min(value, worldSize) }
        }
        return worldSize
    }
}
