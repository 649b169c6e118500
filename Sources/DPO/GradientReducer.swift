import Distributed
import GPT2

/// Sums a model's gradient over the ranks in buckets that start while the last backward pass of
/// an optimiser step is still running, as PyTorch's DistributedDataParallel does.
///
/// During `overlapping(_:_:)` the model reports each suffix of the gradient buffer that its
/// backward pass will not change again (`GPT2Model.onGradientsFinal`: after `ln_f`, after each
/// block from the last, then 0 after the embeddings; a LoRA model's gradient is its adapter's,
/// final block by block too). Each report starts a non-blocking reduction
/// of every whole bucket of `bucketElements` in the finished part, from the end of the buffer
/// backwards, and lets the started ones advance (Open MPI has no progress thread: they move only
/// inside MPI calls). Once backward reports 0 the rest is started in buckets too; `finish()`
/// waits for all of them. Backward reports the same offsets on every rank, so every rank starts
/// the same ranges in the same order, as MPI requires.
///
/// Without `owners` each bucket is all-reduced: every rank ends with the summed gradient. With
/// `owners` (ZeRO-1: one range per rank) the part of a bucket inside `owners[r]` is reduced to
/// rank `r` only; outside its own range a rank's buffer keeps its own gradient.
///
/// With `releasing` (ZeRO-2, used for every micro-batch) a rank keeps only its own range: once a
/// bucket's reduction has completed, its parts outside the rank's range are released
/// (`FloatBuffer.release`: zero, their whole pages given back to the system). Each report first
/// waits for the buckets started at the previous one, so besides its own range a rank holds only
/// the buckets in flight and the part backward is writing. The zeros are where the next
/// micro-batch adds its gradient: the owner's range holds the sum over ranks of the earlier
/// micro-batches plus its own new part, every other rank only its new part, so reducing them to
/// the owner again gives the sum of every micro-batch over every rank.
public final class GradientReducer {
    /// Elements per bucket, or nil for one bucket started when the backward pass has finished.
    public let bucketElements: Int?
    /// The range of the gradient each rank receives the sum of, or nil when every rank receives all.
    public let owners: [Range<Int>]?
    /// How the buckets travel: float32, or bfloat16 (half the bytes).
    public let wire: WireFormat
    /// Whether the parts of reduced buckets outside this rank's range are released (ZeRO-2).
    public let releasing: Bool
    private let gradients: FloatBuffer
    private let communicator: any Communicator
    /// `gradients[unstarted...]` is being reduced.
    private var unstarted: Int
    /// With `releasing`: `gradients[unstarted..<unreleased]` is in flight, `gradients[unreleased...]`
    /// is reduced and released outside this rank's range.
    private var unreleased: Int
    /// The last offset the backward pass reported in this step.
    private var lastReported = Int.max
    private var blockedSeconds = 0.0
    private var failure: Error?

    /// A reducer of `gradients` over `communicator`'s ranks.
    ///
    /// - Parameters:
    ///   - bucketElements: elements per bucket (at least 1), or nil for a single bucket.
    ///   - owners: with ZeRO-1, the range of every rank (in rank order); nil to all-reduce.
    ///   - wire: how the buckets travel (`--grad-comm-dtype`).
    ///   - releasing: release what other ranks own once reduced (ZeRO-2; needs `owners`).
    public init(gradients: FloatBuffer, communicator: any Communicator, bucketElements: Int?, owners: [Range<Int>]?,
                wire: WireFormat = .fp32, releasing: Bool = false) {
        precondition(bucketElements.map { $0 >= 1 } ?? true, "GradientReducer: bucketElements must be at least 1")
        precondition(owners.map { $0.count == communicator.size } ?? true, "GradientReducer: one owner range per rank")
        precondition(!releasing || owners != nil, "GradientReducer: releasing needs owners")
        self.gradients = gradients
        self.communicator = communicator
        self.bucketElements = bucketElements
        self.owners = owners
        self.wire = wire
        self.releasing = releasing
        unstarted = gradients.count
        unreleased = gradients.count
    }

    /// Elements per bucket of `megabytes` MiB of `Float`s (PyTorch's `bucket_cap_mb`), or nil
    /// (one bucket) for 0.
    public static func bucketElements(megabytes: Double) -> Int? {
        megabytes > 0 ? max(1, Int(megabytes * 1024 * 1024) / MemoryLayout<Float>.size) : nil
    }

    /// Runs `body`, the last micro-batch of an optimiser step (with `releasing`, any micro-batch),
    /// which must make exactly one backward pass of `model`; reductions start as that pass
    /// finishes each part of the gradient.
    public func overlapping<T>(_ model: GPT2Model, _ body: () throws -> T) rethrows -> T {
        model.onGradientsFinal = { [unowned self] offset in gradientsFinal(from: offset) }
        defer { model.onGradientsFinal = nil }
        return try body()
    }

    /// Starts whatever is not being reduced yet (all of it when no backward pass ran in
    /// `overlapping`), waits for every reduction, and readies the reducer for the next step.
    ///
    /// - Returns: the seconds this rank spent in communication calls for this step (starting,
    ///   advancing and waiting for reductions); the time they ran alongside backward is not in it.
    public func finish() throws -> Double {
        defer {
            unstarted = gradients.count
            unreleased = gradients.count
            lastReported = .max
            blockedSeconds = 0
            failure = nil
        }
        if let failure { throw failure }
        blockedSeconds += try secondsSpent {
            try startBuckets(finishedFrom: 0)
            try communicator.waitAll()
        }
        releaseReduced()
        return blockedSeconds
    }

    /// The backward pass will not change `gradients[offset...]` again.
    private func gradientsFinal(from offset: Int) {
        guard failure == nil else { return }
        guard offset < lastReported else {
            failure = TrainingError("gradients[\(offset)...] changed after their reduction started: the last "
                + "micro-batch of a step must run exactly one backward pass")
            return
        }
        lastReported = offset
        do {
            blockedSeconds += try secondsSpent {
                if releasing && unreleased > unstarted {
                    try communicator.waitAll()
                    releaseReduced()
                }
                try startBuckets(finishedFrom: offset)
                try communicator.progress()
            }
        } catch {
            failure = error
        }
    }

    /// Starts every whole bucket of `gradients[offset..<unstarted]`, last first, and the rest too
    /// when `offset` is 0 (everything is final).
    private func startBuckets(finishedFrom offset: Int) throws {
        let size = bucketElements ?? .max
        while unstarted > offset && (offset == 0 || unstarted - offset >= size) {
            let lower = max(offset, unstarted - size)
            try start(lower..<unstarted)
            unstarted = lower
        }
    }

    /// With `releasing`, releases the parts of the completed reductions outside this rank's range.
    private func releaseReduced() {
        guard releasing, let owners, unreleased > unstarted else { return }
        let reduced = unstarted..<unreleased, own = owners[communicator.rank]
        gradients.release(reduced.clamped(to: 0..<own.lowerBound))
        gradients.release(reduced.clamped(to: own.upperBound..<gradients.count))
        unreleased = unstarted
    }

    private func start(_ bucket: Range<Int>) throws {
        guard let owners else {
            try communicator.startAllReduceSum(UnsafeMutableBufferPointer(rebasing: gradients.buffer[bucket]), as: wire)
            return
        }
        for (rank, owned) in owners.enumerated() {
            let part = bucket.clamped(to: owned)
            if !part.isEmpty {
                try communicator.startReduceSum(UnsafeMutableBufferPointer(rebasing: gradients.buffer[part]), root: rank, as: wire)
            }
        }
    }
}
