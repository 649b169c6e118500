import FileErrors
import Foundation

/// Exclusive use of a run directory by one live run: an advisory `flock` on
/// `OUTPUT_DIR/.dpo-ddp.lock`, whose text names the holder's PID and host for the message a second
/// run gets. The kernel releases the lock when its holder exits however it ends (kill -9
/// included), so a lock file left by a dead run is simply taken over. Held by rank 0 only; the
/// lock is released when this value is deallocated.
public final class RunDirectoryLock {
    /// The lock file.
    public let url: URL
    private let descriptor: Int32

    /// The lock file's name inside a run directory.
    public static let fileName = ".dpo-ddp.lock"

    /// Takes the lock of `directory` (which must exist) or throws, naming the run that holds it.
    public init(directory: URL) throws {
        url = directory.appendingPathComponent(Self.fileName)
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrainingError("cannot lock the output directory \(directory.path): \(url.path): \(Self.cause(errno))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = (try? String(contentsOf: url, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            if reason == EWOULDBLOCK {
                throw TrainingError("the output directory \(directory.path) is in use by another run ("
                    + (holder.isEmpty ? "its lock \(url.path) is held" : holder)
                    + "): wait for it to end, stop it, or choose another --output-dir")
            }
            throw TrainingError("cannot lock the output directory \(directory.path): \(Self.cause(reason))")
        }
        let me = "PID \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        ftruncate(descriptor, 0)
        _ = me.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    deinit { close(descriptor) }

    /// `errno` in the plain words every file error uses.
    private static func cause(_ code: Int32) -> String {
        FileError.cause(of: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO))
    }
}
