import Foundation
import Kernels

/// Restarts this process once with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to kernels
/// slower than the CPU supports (see `BLASCore`). The restart replaces the process image (same
/// PID, same arguments), before MPI or any work has started, so launchers do not notice.
/// Setting `OPENBLAS_CORETYPE` yourself disables it.
enum BLASRestart {
    static func ifNeeded() {
        guard let core = BLASCore.preferredCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.unsafeArgv
        execv("/proc/self/exe", arguments)
        // execv only returns on failure; carry on with the slower kernels rather than stop.
        FileHandle.standardError.write(Data("warning: could not restart with OPENBLAS_CORETYPE=\(core); using \(BLASCore.current) kernels\n".utf8))
    }
}
