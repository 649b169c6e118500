import DPO
import FileErrors
import Foundation
import TestSupport
import XCTest

/// A failed read or write names the file and the cause in plain words ("is a directory", "no space
/// left on device"), never Foundation's `Error Domain=NSCocoaErrorDomain Code=640 ...` dump.
final class ErrorMessageTests: XCTestCase {
    /// An `errno` as Foundation on Linux records it beneath its own error.
    static func posix(_ code: Int32) -> POSIXError { POSIXError(POSIXErrorCode(rawValue: code)!) }

    // MARK: FileError on errors shaped as Foundation throws them

    func testFoundationErrorsBecomePathAndCause() {
        let cases: [(Error, String)] = [
            (CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: "/d/pairs", NSUnderlyingErrorKey: Self.posix(EISDIR)]),
             "/d/pairs: is a directory"),
            (CocoaError(.fileWriteOutOfSpace, userInfo: [NSFilePathErrorKey: "/o/config.json", NSUnderlyingErrorKey: Self.posix(ENOSPC)]),
             "/o/config.json: no space left on device"),
            (CocoaError(.fileWriteVolumeReadOnly, userInfo: [NSURLErrorKey: URL(fileURLWithPath: "/o/run")]),
             "/o/run: read-only file system"),
            (CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: "/secret"]), "/secret: permission denied"),
            (CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/nope"]), "/nope: no such file or directory"),
            // A copy names its source as NSFilePath; a failed write is the destination's.
            (CocoaError(.fileWriteVolumeReadOnly, userInfo: [NSFilePathErrorKey: "/model/vocab.json",
                                                             "NSDestinationFilePath": "/o/ckpt/vocab.json",
                                                             NSUnderlyingErrorKey: Self.posix(EROFS)]),
             "/o/ckpt/vocab.json: read-only file system"),
            (Self.posix(EACCES), "permission denied"),
            // No errno and no known code: still the path and whether a read or a write failed.
            (CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: "/r"]), "/r: cannot read (Foundation error 256)"),
            (CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "/w"]), "/w: cannot write (Foundation error 512)"),
        ]
        for (error, expected) in cases {
            XCTAssertEqual(FileError.message(for: error), expected, "\(error)")
        }
    }

    /// A `FileHandle` write names no file: the caller passes the path it wrote to.
    func testPathlessHandleErrorTakesTheCallersPath() {
        let handleError = NSError(domain: NSCocoaErrorDomain, code: CocoaError.fileWriteOutOfSpace.rawValue,
                                  userInfo: [NSUnderlyingErrorKey: Self.posix(ENOSPC)])
        XCTAssertEqual(FileError(handleError, path: "/o/metrics.jsonl")?.description, "/o/metrics.jsonl: no space left on device")
    }

    func testOtherErrorsDescribeThemselves() {
        let error = TrainingError("step 3: loss is NaN")
        XCTAssertNil(FileError(error))
        XCTAssertEqual(FileError.message(for: error), "step 3: loss is NaN")
    }

    // MARK: The built binary

    func dpoDDP(_ arguments: [String]) throws -> ProcessOutcome {
        try ProcessRunner.run(ProcessRunner.dpoDDP, arguments, environment: ProcessInfo.processInfo.environment, timeout: 120)
    }

    func assertPlain(_ outcome: ProcessOutcome, contains expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(outcome.status, 0, outcome.output, file: file, line: line)
        XCTAssertTrue(outcome.output.contains(expected), "«\(outcome.output)» should contain «\(expected)»", file: file, line: line)
        for dump in ["NSCocoaErrorDomain", "NSPOSIXErrorDomain", "The operation could not be completed"] {
            XCTAssertFalse(outcome.output.contains(dump), outcome.output, file: file, line: line)
        }
    }

    func testDirectoryGivenAsDataNamesItAndTheCause() throws {
        let run = try TinyRun()
        let directory = run.directory.path
        assertPlain(try dpoDDP(["inspect-data", "--data", directory]), contains: "\(directory): cannot read: is a directory")
        assertPlain(try dpoDDP(["train", "--model", run.modelDirectory.path, "--data", directory, "--output-dir", directory + "/out"]),
                    contains: "\(directory): cannot read: is a directory")
    }

    func testDirectoryGivenAsConfigNamesItAndTheCause() throws {
        let run = try TinyRun()
        assertPlain(try dpoDDP(["train", "--config", run.modelDirectory.path]),
                    contains: "\(run.modelDirectory.path): cannot read the config file: is a directory")
    }

    func testReadOnlyOutputDirectoryNamesItAndTheCause() throws {
        let run = try TinyRun()
        let mount = try TmpfsMount(bytes: 1 << 20)
        try mount.makeReadOnly()
        let output = mount.directory.appendingPathComponent("run")
        assertPlain(try dpoDDP(["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-steps", "1",
                                "--output-dir", output.path]),
                    contains: "\(output.path): read-only file system")
        // A command outside MPI reports through the argument parser's `Error:` line.
        assertPlain(try dpoDDP(["check", "--model", run.modelDirectory.path, "--batch", "1", "--seq-len", "8", "--repeats", "1",
                                "--save", output.path]),
                    contains: "Error: \(output.path): read-only file system")
    }

    /// 64 KiB hold the run's small files but not the first checkpoint's weights (3.2 MB).
    func testFullDiskNamesTheFileAndTheCause() throws {
        let run = try TinyRun()
        let mount = try TmpfsMount(bytes: 1 << 16)
        let output = mount.directory.appendingPathComponent("run")
        let outcome = try dpoDDP(["train", "--model", run.modelDirectory.path, "--data", run.dataURL.path, "--max-steps", "1",
                                  "--output-dir", output.path])
        assertPlain(outcome, contains: "no space left on device")
        XCTAssertTrue(outcome.output.contains(output.path + "/"), "the message names the file: \(outcome.output)")
    }

    /// The metrics log is appended through a file handle, whose errors name no file.
    func testMetricsWriterOnAFullDiskNamesTheLog() throws {
        let mount = try TmpfsMount(bytes: 1 << 16)
        let log = mount.directory.appendingPathComponent("metrics.jsonl")
        let writer = try MetricsWriter(url: log, keepingThrough: 0)
        let record = LogRecord(step: 1, epoch: 0.1, phase: "dpo", values: ["loss": 0.69])
        // About 80 bytes a record: 4096 of them overflow 64 KiB.
        XCTAssertThrowsError(try (0..<4096).forEach { _ in try writer.append(record) }) {
            XCTAssertEqual("\($0)", "\(log.path): no space left on device")
        }
    }
}
