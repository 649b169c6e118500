import Foundation

/// A committed python script that a benchmark runs beside ours (PyTorch, tiktoken) and whose last
/// line of standard output is one JSON object. Missing python, libraries or script are not errors
/// of ours: they come back as the reason the comparison was skipped.
enum PythonScript {
    /// Why a script's result is missing, for the user.
    struct Skipped: Error {
        var reason: String
    }

    /// Runs `python3 script arguments...` and decodes its last stdout line (snake_case keys) as
    /// `T`; on failure, the script's last line of standard error (e.g. a failed import).
    static func run<T: Decodable>(_ script: String, _ arguments: [String], hint: String) -> Result<T, Skipped> {
        guard FileManager.default.fileExists(atPath: script) else {
            return .failure(Skipped(reason: "\(script) not found (run from the dpo-ddp source directory or pass \(hint))"))
        }
        // Standard error goes to a file, so that neither pipe can fill up and block the script.
        let errorURL = FileManager.default.temporaryDirectory.appendingPathComponent("dpo-ddp-python-\(getpid()).stderr")
        defer { try? FileManager.default.removeItem(at: errorURL) }
        guard FileManager.default.createFile(atPath: errorURL.path, contents: nil) else {
            return .failure(Skipped(reason: "cannot create \(errorURL.path)"))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        do {
            process.standardError = try FileHandle(forWritingTo: errorURL)
            try process.run()
        } catch {
            return .failure(Skipped(reason: "cannot run python3: \(error)"))
        }
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let lastLine = String(decoding: stdout, as: UTF8.self).split(separator: "\n").last.map { Data($0.utf8) }
        guard process.terminationStatus == 0, let lastLine, let result = try? decoder.decode(T.self, from: lastLine) else {
            let stderr = (try? Data(contentsOf: errorURL)) ?? Data()
            let message = String(decoding: stderr, as: UTF8.self).split(separator: "\n").last.map(String.init)
            return .failure(Skipped(reason: message ?? "exit status \(process.terminationStatus)"))
        }
        return .success(result)
    }
}
