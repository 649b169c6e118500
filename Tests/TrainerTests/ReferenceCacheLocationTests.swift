import DPO
import Foundation
import TestSupport
import XCTest

/// Where `precompute_ref` keeps its cache when the data sits on a read-only file system.
final class ReferenceCacheLocationTests: XCTestCase {
    func cacheFiles(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".ref-logps-") }
    }

    /// Data on a read-only mount: the cache goes to the run directory (checked before computing),
    /// the run equals one whose cache sits beside the data, and a second run reuses it.
    func testReadOnlyDataDirectoryFallsBackToTheRunDirectory() throws {
        let run = try TinyRun()
        let mount = try TmpfsMount(bytes: 1 << 20)
        let data = mount.directory.appendingPathComponent("pairs.jsonl")
        try FileManager.default.copyItem(at: run.dataURL, to: data)
        try mount.makeReadOnly()

        let beside = try run.train(run.config(output: "beside") { $0.precomputeRef = true })
        XCTAssertEqual(try cacheFiles(in: run.directory).count, 1, "a writable data directory holds the cache")

        let readOnly = try run.train(run.config(output: "fallback") { $0.precomputeRef = true; $0.data = data.path })
        let output = run.directory.appendingPathComponent("fallback")
        let cached = try cacheFiles(in: output)
        XCTAssertEqual(cached.count, 1)
        XCTAssertEqual(try cacheFiles(in: mount.directory), [])
        assertSameMetrics(beside.records, readOnly.records, tolerance: 0)

        // The second run must read the run directory's file: plant different values in it.
        let file = output.appendingPathComponent(cached[0])
        var cache = try JSONDecoder().decode(ReferenceCache.self, from: Data(contentsOf: file))
        cache.chosen = cache.chosen.map { $0 - 1 }
        try cache.write(to: file)
        let reused = try run.train(run.config(output: "fallback") {
            $0.precomputeRef = true; $0.data = data.path; $0.overwriteOutputDir = true
        })
        let first = try XCTUnwrap(reused.records.first?["rewards/chosen"] as? Double)
        // At step 1 the policy is the reference, so rewards/chosen = beta * (logp - (logp - 1)) = 0.1.
        XCTAssertEqual(first, 0.1, accuracy: 1e-6, "the run read the planted cache")
    }

    /// An unwritable `ref_cache_dir` is refused before the reference is computed.
    func testUnwritableCacheDirectoryIsRefused() throws {
        let run = try TinyRun()
        let mount = try TmpfsMount(bytes: 1 << 16)
        try mount.makeReadOnly()
        XCTAssertThrowsError(try run.train(run.config(output: "out") {
            $0.precomputeRef = true; $0.refCacheDir = mount.directory.path
        })) {
            XCTAssertTrue("\($0)".contains("cannot write the reference cache in \(mount.directory.path); set --ref-cache-dir"), "\($0)")
        }
    }
}
