import Foundation

/// SIGTERM and SIGUSR1 (what schedulers send before preempting a job) turned into a request to
/// stop cleanly: the trainer checks it at every step boundary, all ranks agree, rank 0 writes a
/// checkpoint and every rank exits 0, so `--resume latest` carries on.
public enum StopSignal {
    nonisolated(unsafe) private static var received: sig_atomic_t = 0

    /// The signals that request a stop.
    public static let signals: [Int32] = [SIGTERM, SIGUSR1]

    /// Installs the handlers (restarting interrupted system calls, so MPI and file I/O go on).
    public static func install() {
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in StopSignal.received = number }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// The signal received since start-up, or 0.
    public static var pending: Int32 { Int32(received) }

    /// Describes a signal number for messages.
    public static func name(_ signal: Int32) -> String {
        signal == SIGTERM ? "SIGTERM" : signal == SIGUSR1 ? "SIGUSR1" : "signal \(signal)"
    }
}
