import ArgumentParser

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
            CheckCommand.self,
        ]
    )
}
