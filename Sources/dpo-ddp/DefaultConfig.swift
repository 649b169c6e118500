import ArgumentParser
import Foundation

/// Where `configs/default.yaml` (the embedded default run) is: under the current directory, or
/// in the source tree the binary was built in (`.build/<config>/dpo-ddp` → `../../configs`).
enum DefaultConfig {
    static func path() throws -> String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("configs/default.yaml"),
            executable.deletingLastPathComponent().appendingPathComponent("../../configs/default.yaml").standardizedFileURL,
            executable.deletingLastPathComponent().appendingPathComponent("../../../configs/default.yaml").standardizedFileURL,
        ]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw ValidationError("no --config and no --data given, and configs/default.yaml was not found "
                + "(looked in \(candidates.map(\.path).joined(separator: ", ")))")
        }
        return found.path
    }
}
