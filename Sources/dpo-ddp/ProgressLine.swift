import DPO
import Distributed
import Foundation

/// The one-line progress display: step, loss, margin, accuracy, speed and ETA, redrawn in place on
/// a terminal and printed as plain lines otherwise (logs, pipes, schedulers, MPI launchers).
final class ProgressLine {
    private let totalSteps: Int
    private let start = ContinuousClock.now
    private let terminal = ProgressLine.redraws(
        stdoutIsTerminal: isatty(STDOUT_FILENO) != 0, environment: ProcessInfo.processInfo.environment)
    private var drawn = false

    init(totalSteps: Int) { self.totalSteps = totalSteps }

    /// Whether to redraw the line in place (`\r`, `ESC[K`): only on a terminal, and never under an
    /// MPI launcher. `mpirun` hands its ranks a pseudo-terminal even when its own output goes to a
    /// file, so there a rank's `isatty` says nothing about where its lines end up.
    static func redraws(stdoutIsTerminal: Bool, environment: [String: String]) -> Bool {
        stdoutIsTerminal && !CommunicatorFactory.isLaunchedByMPI(environment: environment)
    }

    func show(_ record: LogRecord) {
        let v = record.values
        var parts = ["step \(record.step)/\(totalSteps)", record.phase]
        if let loss = v["loss"] { parts.append(String(format: "loss %.4f", loss)) }
        if let margin = v["rewards/margins"] { parts.append(String(format: "margin %.3f", margin)) }
        if let accuracy = v["rewards/accuracies"] { parts.append(String(format: "acc %.2f", accuracy)) }
        if let loss = v["eval_loss"] { parts.append(String(format: "eval loss %.4f", loss)) }
        if let accuracy = v["eval_rewards/accuracies"] { parts.append(String(format: "eval acc %.3f", accuracy)) }
        if let speed = v["pairs_per_second"] { parts.append(String(format: "%.1f pairs/s", speed)) }
        let elapsed = (ContinuousClock.now - start).inSeconds
        if record.step > 0 && record.step < totalSteps {
            let eta = elapsed / Double(record.step) * Double(totalSteps - record.step)
            parts.append("ETA " + Self.clock(eta))
        }
        let line = parts.joined(separator: "  ")
        let isEval = v.keys.contains { $0.hasPrefix("eval_") }
        if terminal && !isEval {
            print("\r\u{1B}[K" + line, terminator: "")
            drawn = true
        } else {
            if drawn { print("") }
            drawn = false
            print(line)
        }
        fflush(stdout)
    }

    func finish() {
        if drawn { print("") }
        drawn = false
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
