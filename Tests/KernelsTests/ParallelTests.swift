import Synchronization
import XCTest
import Kernels

/// `parallelRanges` on the OpenMP team: every index once, whatever the team.
final class ParallelTests: XCTestCase {
    /// Counts how often each index of `0..<count` was visited (atomically enough: each index has its own slot).
    private func visits(_ count: Int, threads: Int, _ run: (UnsafeMutablePointer<Int>) -> Void) -> [Int] {
        KernelThreads.set(threads)
        defer { KernelThreads.set(0) }
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: count)
        seen.initialize(repeating: 0, count: count)
        defer { seen.deallocate() }
        run(seen)
        return Array(UnsafeBufferPointer(start: seen, count: count))
    }

    func testEveryIndexRunsOnceForAnyThreadCount() {
        for threads in [1, 2, 3, 5] {
            let seen = visits(1000, threads: threads) { seen in
                parallelRanges(1000) { range in for i in range { seen[i] += 1 } }
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: 1000), "\(threads) threads")
        }
    }

    /// The workers run on distinct threads at once (a team, not one thread in turn): two workers that
    /// each wait for the other to arrive finish only if both run concurrently.
    func testWorkersRunConcurrently() {
        KernelThreads.set(2)
        defer { KernelThreads.set(0) }
        let arrived = Atomic<Int>(0)
        let deadline = Date().addingTimeInterval(10)
        var finished = [false, false]
        finished.withUnsafeMutableBufferPointer { finished in
            parallelRanges(2) { range in
                arrived.add(1, ordering: .sequentiallyConsistent)
                while arrived.load(ordering: .sequentiallyConsistent) < 2 && Date() < deadline {}
                finished[range.lowerBound] = arrived.load(ordering: .sequentiallyConsistent) == 2
            }
        }
        XCTAssertEqual(finished, [true, true])
    }

    /// A region inside a region gets a team of one thread (OpenMP's nesting default), which must still
    /// run every worker's range.
    func testNestedRegionsRunEveryIndex() {
        let seen = visits(64 * 64, threads: 2) { seen in
            parallelRanges(64) { outer in
                for row in outer {
                    parallelRanges(64) { inner in for column in inner { seen[row * 64 + column] += 1 } }
                }
            }
        }
        XCTAssertEqual(seen, [Int](repeating: 1, count: 64 * 64))
    }
}
