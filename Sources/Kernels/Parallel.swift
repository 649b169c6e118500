import Foundation
import CBLAS
import CDNNL
import Dispatch

/// How many threads the kernels may use in this process.
///
/// Set it once at start-up (for example cores / ranks when several MPI ranks share a machine;
/// 1 in debug mode). Matmuls are split by output rows across these threads, each running a
/// single-threaded OpenBLAS call, so OpenBLAS never runs threads of its own (whose idle spinning
/// cost ~17% of a step while the Swift kernels ran). The memory-bound kernels split work into
/// fixed-size blocks and reduce partial sums in block order, so their results never depend on
/// the thread count.
public enum KernelThreads {
    nonisolated(unsafe) private static var configured = 0
    private static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// The thread count in use: the configured value, else the number of active processors.
    public static var count: Int {
        _ = singleThreadedBLAS
        return configured > 0 ? configured : ProcessInfo.processInfo.activeProcessorCount
    }

    /// Sets the thread count; values below 1 restore the default (all active processors).
    public static func set(_ threads: Int) { configured = max(0, threads) }
}

/// Runs `body` over `0..<count` split into contiguous ranges, one per worker thread.
///
/// The split only decides which thread runs which rows; `body` must write disjoint outputs per
/// index, so the result does not depend on the number of threads.
@inlinable
public func parallelRanges(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let threads = max(1, min(KernelThreads.count, count / max(1, minimumPerThread)))
    if threads == 1 {
        body(0..<count)
        return
    }
    runWorkers(threads) { worker in
        let start = count * worker / threads
        let end = count * (worker + 1) / threads
        if start < end { body(start..<end) }
    }
}

/// Calls `body(w)` for every `w` in `0..<workers` on that many threads and returns when all are done.
///
/// The threads are the calling thread's OpenMP team, the one oneDNN's products run on: one team for
/// every kernel, so a team thread waiting (spinning) after a product is the thread that runs the next
/// kernel, instead of a third thread competing with two others for two cores. Without an OpenMP
/// runtime, Dispatch's threads.
@usableFromInline
func runWorkers(_ workers: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var call = body
        let ran = withUnsafeMutablePointer(to: &call) { pointer in
            dpo_omp_team_run(Int32(workers), { context, worker in
                context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(worker))
            }, pointer)
        }
        if ran == 0 { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
    }
}
