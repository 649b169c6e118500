import Foundation

/// A failed file operation in plain words: the path and the operating system's reason
/// (`runs/x/metrics.jsonl: no space left on device`), instead of Foundation's
/// `Error Domain=NSCocoaErrorDomain Code=640 ...` or "The operation could not be completed".
///
/// Foundation reports file failures as `CocoaError`s whose `NSUnderlyingError` holds the POSIX
/// `errno`, and names the file in `NSFilePath` or `NSURL` (not always: a `FileHandle` write names
/// none, so code that writes through a handle passes the path it wrote to).
public struct FileError: Error, Equatable, CustomStringConvertible {
    /// The file or directory the operation failed on, when known.
    public var path: String?
    /// Why, in plain words: "is a directory", "permission denied", "no space left on device", ...
    public var cause: String

    /// The file-system failure `error` stands for, naming `path` (else the path Foundation
    /// recorded in the error); nil when `error` is not a Foundation file or POSIX error.
    public init?(_ error: any Error, path: String? = nil) {
        let error = error as NSError
        guard error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain else { return nil }
        if let errno = Self.posixCode(error) {
            cause = Self.lowercasedFirst(String(cString: strerror(errno)))
        } else if let known = Self.cocoaCauses[error.code], error.domain == NSCocoaErrorDomain {
            cause = known
        } else if let detail = error.userInfo[NSDebugDescriptionErrorKey] as? String {
            cause = detail
        } else if error.domain == NSCocoaErrorDomain, let action = Self.cocoaAction(code: error.code) {
            cause = "\(action) (Foundation error \(error.code))"
        } else {
            return nil
        }
        self.path = path ?? Self.recordedPath(error)
    }

    /// `PATH: cause`, or the cause alone when no path is known.
    public var description: String { path.map { "\($0): \(cause)" } ?? cause }

    /// Why `error` happened, in plain words: the cause of a file-system failure, any other error
    /// as it describes itself. For messages that already name the file.
    public static func cause(of error: any Error) -> String {
        FileError(error)?.cause ?? "\(error)"
    }

    /// The message to show for an error that ended a command: `PATH: cause` for a file-system
    /// failure, any other error as it describes itself.
    public static func message(for error: any Error) -> String {
        FileError(error)?.description ?? "\(error)"
    }

    /// Causes of Foundation's file errors that carry no `errno`.
    static let cocoaCauses: [Int: String] = [
        CocoaError.fileNoSuchFile.rawValue: "no such file or directory",
        CocoaError.fileReadNoSuchFile.rawValue: "no such file or directory",
        CocoaError.fileReadNoPermission.rawValue: "permission denied",
        CocoaError.fileWriteNoPermission.rawValue: "permission denied",
        CocoaError.fileReadInapplicableStringEncoding.rawValue: "not text in the expected encoding (UTF-8)",
        CocoaError.fileWriteOutOfSpace.rawValue: "no space left on device",
        CocoaError.fileWriteVolumeReadOnly.rawValue: "read-only file system",
        CocoaError.fileWriteFileExists.rawValue: "file exists",
    ]

    /// What a Foundation file error code says failed: its read errors are 256-511, its write
    /// errors 512-1023.
    static func cocoaAction(code: Int) -> String? {
        switch code {
        case CocoaError.fileReadUnknown.rawValue..<CocoaError.fileWriteUnknown.rawValue: return "cannot read"
        case CocoaError.fileWriteUnknown.rawValue..<1024: return "cannot write"
        default: return nil
        }
    }

    /// The POSIX `errno` of `error` or of the errors beneath it (Foundation on Linux stores a
    /// `POSIXError` there, which `as? NSError` does not match).
    static func posixCode(_ error: NSError) -> Int32? {
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        guard let underlying = error.userInfo[NSUnderlyingErrorKey] as? any Error else { return nil }
        return posixCode(underlying as NSError)
    }

    /// The file Foundation names in `error`: the destination of a failed write (a copy or move
    /// records its source as `NSFilePath`), else `NSFilePath`, else `NSURL`.
    static func recordedPath(_ error: NSError) -> String? {
        let isWrite = (error.domain == NSCocoaErrorDomain && error.code >= CocoaError.fileWriteUnknown.rawValue)
            || [ENOSPC, EROFS, EDQUOT].contains(posixCode(error) ?? 0)
        if isWrite, let destination = error.userInfo["NSDestinationFilePath"] as? String { return destination }
        if let path = error.userInfo[NSFilePathErrorKey] as? String { return path }
        return (error.userInfo[NSURLErrorKey] as? URL)?.path
    }

    static func lowercasedFirst(_ text: String) -> String {
        text.prefix(1).lowercased() + text.dropFirst()
    }
}
