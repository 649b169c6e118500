import Foundation

/// Chooses the communicator for this process: MPI when an MPI launcher started it, else local.
///
/// Deciding from the environment means that `dpo-ddp train` run by hand never initializes MPI.
public enum CommunicatorFactory {
    /// Variables whose mere presence means an MPI launcher started this process:
    /// Open MPI's `mpirun` (`OMPI_COMM_WORLD_SIZE`), any PMIx launcher such as Open MPI 5 or
    /// `srun --mpi=pmix` (`PMIX_RANK`), and PMI-1/2 launchers such as MPICH's Hydra (`PMI_SIZE`).
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]

    /// Whether `environment` shows an MPI launcher: one of `launcherVariables` is set, or Slurm
    /// runs this process as one task (`SLURM_PROCID`) of a step with more than one task
    /// (`SLURM_STEP_NUM_TASKS`, or `SLURM_NTASKS` when that is missing).
    public static func isLaunchedByMPI(environment: [String: String]) -> Bool {
        if launcherVariables.contains(where: { environment[$0] != nil }) {
            return true
        }
        guard environment["SLURM_PROCID"] != nil,
              let tasks = environment["SLURM_STEP_NUM_TASKS"] ?? environment["SLURM_NTASKS"]
        else { return false }
        return (Int(tasks) ?? 1) > 1
    }

    /// Returns an `MPICommunicator` when `isLaunchedByMPI(environment:)`, else a `LocalCommunicator`.
    ///
    /// - Parameters:
    ///   - environment: the variables to decide from; this process's environment by default.
    ///   - maxChunkCount: passed to `MPICommunicator.init(maxChunkCount:)`.
    /// - Throws: `MPIError` when MPI fails to initialize.
    public static func make(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        maxChunkCount: Int = MPICommunicator.defaultMaxChunkCount
    ) throws -> any Communicator {
        guard isLaunchedByMPI(environment: environment) else { return LocalCommunicator() }
        return try MPICommunicator(maxChunkCount: maxChunkCount)
    }
}
