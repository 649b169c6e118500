import Foundation

/// A small tmpfs mounted for one test, to meet real file-system faults: a full disk (write more
/// than its size) or a read-only file system (`makeReadOnly`). Needs root, as CI and the
/// development machines run; unmounted and removed on deinit.
public final class TmpfsMount {
    /// The mount point.
    public let directory: URL

    /// Mounts a tmpfs of `bytes` at a new temporary directory.
    public init(bytes: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=\(bytes)", "none", directory.path])
    }

    /// Remounts the file system read-only (its files stay readable).
    public func makeReadOnly() throws {
        try Self.mount(["-o", "remount,ro", directory.path])
    }

    deinit {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = [directory.path]
        try? umount.run()
        umount.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    static func mount(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/mount")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw CocoaError(.fileWriteNoPermission, userInfo: [
                NSLocalizedDescriptionKey: "mount \(arguments.joined(separator: " ")) failed (these tests need root): \(message)"])
        }
    }
}
