import Foundation

/// SIGTERM and SIGUSR1 (what schedulers send before preempting a job) and a first SIGINT (Ctrl-C)
/// turned into a request to stop cleanly: the trainer checks it at every step boundary, all ranks
/// agree, rank 0 writes a checkpoint and every rank exits 0, so `--resume latest` carries on. A
/// second SIGINT ends the process at once (the shell's usual Ctrl-C), with no checkpoint.
public enum StopSignal {
    nonisolated(unsafe) private static var received: sig_atomic_t = 0

    /// The signals that request a stop.
    public static let signals: [Int32] = [SIGTERM, SIGUSR1, SIGINT]

    /// Written to standard error by the handler of the first SIGINT; allocated by `install`,
    /// since a signal handler may not allocate.
    nonisolated(unsafe) private static var interruptNotice: (text: UnsafeMutablePointer<CChar>, count: Int)?

    /// Installs the handlers (restarting interrupted system calls, so MPI and file I/O go on).
    public static func install() {
        if interruptNotice == nil {
            let text = "\nCtrl-C: stopping after this step with a checkpoint; press Ctrl-C again to quit at once\n"
            interruptNotice = (strdup(text)!, text.utf8.count)
        }
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in StopSignal.handle(number) }
            // SIGINT's handler is reset to the default (end the process) as the kernel enters it,
            // so a second Ctrl-C quits at once, whichever thread either lands on.
            action.sa_flags = SA_RESTART | (signal == SIGINT ? Int32(bitPattern: UInt32(SA_RESETHAND)) : 0)
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// The handler: async-signal-safe calls only (write).
    private static func handle(_ number: Int32) {
        if number == SIGINT, let notice = interruptNotice { _ = write(STDERR_FILENO, notice.text, notice.count) }
        if received == 0 || number != SIGINT { received = number }
    }

    /// The signal received since start-up, or 0.
    public static var pending: Int32 { Int32(received) }

    /// Describes a signal number for messages.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        case SIGINT: "SIGINT (Ctrl-C)"
        default: "signal \(signal)"
        }
    }
}
