import ArgumentParser
import FileErrors

/// The `dpo-ddp` command line: Direct Preference Optimization for GPT-2, data parallel over MPI.
@main
struct DPODDP: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo-ddp",
        abstract: "Align GPT-2 language models to human preferences with DPO, data parallel over MPI.",
        discussion: """
            Run one process, or many under mpirun/srun: every rank trains on its own slice of the \
            preference pairs and gradients are all-reduced.
            """,
        subcommands: [
            TrainCommand.self,
            EvalCommand.self,
            LogpsCommand.self,
            GenerateCommand.self,
            MergeAdapterCommand.self,
            CheckCommand.self,
            TokenizeCommand.self,
            BenchTokenizerCommand.self,
            BenchCommand.self,
            PlanCommand.self,
            BenchMatmulCommand.self,
            InspectDataCommand.self,
            MPICheckCommand.self,
            BLASCoreCommand.self,
            ReportCommand.self,
        ],
        defaultSubcommand: TrainCommand.self
    )

    /// Picks the fast BLAS kernels for this CPU, then parses the command line (negative numbers
    /// attached to their options) and runs it. A file-system error that ends the command is
    /// printed as `PATH: cause`, not as Foundation's error dump.
    static func main() {
        BLASRestart.ifNeeded()
        do {
            var command = try parseAsRoot(NegativeNumberArguments.attached(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            exit(withError: FileError(error) ?? error)
        }
    }
}
