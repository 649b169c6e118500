import ArgumentParser
import Kernels

/// `dpo-ddp blas-core`: prints the OpenBLAS kernel family this binary runs with (after the
/// automatic restart), so scripts can run other processes, such as the tests, with the same.
struct BLASCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas-core",
        abstract: "Print the OpenBLAS kernel family in use (e.g. SkylakeX).",
        shouldDisplay: false)

    func run() { print(BLASCore.current) }
}
