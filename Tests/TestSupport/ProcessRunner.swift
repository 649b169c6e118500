import Foundation

/// What a child process left: its exit status and everything it wrote.
public struct ProcessOutcome {
    /// The exit status (the signal number if a signal ended it), or -1 when it was killed for
    /// running too long and had not been reaped 10 seconds later.
    public let status: Int32

    /// Standard output and standard error, interleaved as written.
    public let output: String

    /// Whether the process was killed for running longer than its time limit.
    public let timedOut: Bool
}

/// Runs the built `dpo-ddp` and `mpirun` as child processes, never waiting longer than a limit.
public enum ProcessRunner {
    /// The directory holding the products of the current build configuration (and `dpo-ddp`).
    public static var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        #endif
        return Bundle.main.bundleURL
    }

    /// The built `dpo-ddp` executable next to the test bundle.
    public static var dpoDDP: URL { productsDirectory.appendingPathComponent("dpo-ddp") }

    /// This process's environment for `mpirun` and its ranks: allowed to run as root (containers,
    /// CI) and one OpenBLAS thread per rank.
    public static var mpiEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        environment["OPENBLAS_NUM_THREADS"] = "1"
        return environment
    }

    /// The first executable called `name` in the directories of `PATH`, if any.
    public static func findOnPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":")
            .map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `executable` with `arguments` and `environment`; after `timeout` seconds sends its
    /// process group SIGTERM (which `mpirun` also forwards to its ranks), then SIGKILL 5 seconds
    /// later, and returns at most 10 seconds after that whatever happened.
    public static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String],
        timeout: TimeInterval
    ) throws -> ProcessOutcome {
        let logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("dpo-ddp-test-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: logURL.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logURL.path])
        }
        defer { try? FileManager.default.removeItem(at: logURL) }
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()

        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            signalGroup(of: process.processIdentifier, SIGTERM)
            if finished.wait(timeout: .now() + 5) == .timedOut {
                signalGroup(of: process.processIdentifier, SIGKILL)
                _ = finished.wait(timeout: .now() + 5)
            }
        }
        let reaped = !process.isRunning
        let output = String(decoding: try Data(contentsOf: logURL), as: UTF8.self)
        return ProcessOutcome(status: reaped ? process.terminationStatus : -1, output: output,
                              timedOut: timedOut)
    }

    /// Sends `signal` to the process group that `pid` leads (Foundation starts each child as one),
    /// so that grandchildren such as MPI ranks get it too; to `pid` alone if it leads none.
    ///
    /// Signalling the group matters on Linux: there Foundation reports a child's end only once its
    /// descendants have exited too (seen: a killed `sh` was reported when its `sleep` ended).
    private static func signalGroup(of pid: pid_t, _ signal: Int32) {
        if kill(-pid, signal) != 0 {
            kill(pid, signal)
        }
    }
}
