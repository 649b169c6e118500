import MPIShim

extension MPICommunicator {
    /// Starts `MPI_Iallreduce` (`MPI_SUM`, in place) of each chunk of `buffer`; as `.bf16`, of a
    /// bfloat16 copy with `dpo_mpi_bf16_sum`, widened back into `buffer` by `waitAll()`.
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, as wire: WireFormat) throws {
        try requireActive("MPI_Iallreduce")
        guard let base = buffer.baseAddress else { return }
        try forEachChunk(buffer.count) { start, count in
            var request: MPI_Request?
            switch wire {
            case .fp32:
                try Self.check(MPI_Iallreduce(dpo_mpi_in_place(), base + start, count, dpo_mpi_float(), dpo_mpi_sum(),
                                              world, &request), "MPI_Iallreduce")
            case .bf16:
                let wireCopy = stage(base + start, count: Int(count), widenInto: base + start)
                try Self.check(MPI_Iallreduce(dpo_mpi_in_place(), wireCopy, count, dpo_mpi_uint16(), dpo_mpi_bf16_sum(),
                                              world, &request), "MPI_Iallreduce")
            }
            collectivesStarted += 1
            countSent(Int(count) * wire.bytesPerElement, allReduced: true)
            pending.append(request)
            pendingOperation = "MPI_Iallreduce"
        }
    }

    /// Starts `MPI_Ireduce` (`MPI_SUM`) of each chunk of `buffer` to `root`, in place on `root`;
    /// as `.bf16`, of a bfloat16 copy (widened back into `root`'s `buffer` by `waitAll()`).
    ///
    /// MPI itself checks `root`, so an invalid one comes back as MPI's `MPI_ERR_ROOT` error.
    public func startReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int, as wire: WireFormat) throws {
        try requireActive("MPI_Ireduce")
        guard let base = buffer.baseAddress else { return }
        let isRoot = root == rank
        try forEachChunk(buffer.count) { start, count in
            var request: MPI_Request?
            switch wire {
            case .fp32:
                let send: UnsafeMutableRawPointer? = isRoot ? dpo_mpi_in_place() : UnsafeMutableRawPointer(base + start)
                try Self.check(MPI_Ireduce(send, isRoot ? base + start : nil, count, dpo_mpi_float(), dpo_mpi_sum(),
                                           Int32(clamping: root), world, &request), "MPI_Ireduce")
            case .bf16:
                let wireCopy = stage(base + start, count: Int(count), widenInto: isRoot ? base + start : nil)
                let send: UnsafeMutableRawPointer? = isRoot ? dpo_mpi_in_place() : UnsafeMutableRawPointer(wireCopy)
                try Self.check(MPI_Ireduce(send, isRoot ? wireCopy : nil, count, dpo_mpi_uint16(), dpo_mpi_bf16_sum(),
                                           Int32(clamping: root), world, &request), "MPI_Ireduce")
            }
            collectivesStarted += 1
            countSent(Int(count) * wire.bytesPerElement, allReduced: false)
            pending.append(request)
            pendingOperation = "MPI_Ireduce"
        }
    }

    /// A bfloat16 copy of `count` floats at `source`, kept until `waitAll()`, which widens it into
    /// `destination` (when given) and frees it.
    private func stage(_ source: UnsafeMutablePointer<Float>, count: Int,
                       widenInto destination: UnsafeMutablePointer<Float>?) -> UnsafeMutablePointer<UInt16> {
        let copy = UnsafeMutablePointer<UInt16>.allocate(capacity: count)
        dpo_bf16_round(source, copy, count)
        staged.append((UnsafeMutableBufferPointer(start: copy, count: count), destination))
        return copy
    }

    /// `MPI_Testall` over the started requests; forgets them once all have completed.
    @discardableResult
    public func progress() throws -> Bool {
        guard !pending.isEmpty else { return true }
        try requireActive("MPI_Testall")
        var done: Int32 = 0
        try Self.check(MPI_Testall(Int32(pending.count), &pending, &done, dpo_mpi_statuses_ignore()), "MPI_Testall")
        if done != 0 { finishPending() }
        return done != 0
    }

    /// Waits for the started requests (testing them, under `collectiveTimeout`); they are then
    /// forgotten, and bfloat16 results widened into their buffers.
    public func waitAll() throws {
        guard !pending.isEmpty else { return }
        try requireActive("MPI_Testall")
        defer { finishPending() }
        try waitWatched(&pending, "\(pending.count) x \(pendingOperation)")
    }

    /// Forgets the completed requests; widens bfloat16 results into their buffers and frees the copies.
    private func finishPending() {
        pending.removeAll(keepingCapacity: true)
        for (copy, destination) in staged {
            if let destination { dpo_bf16_widen(copy.baseAddress!, destination, copy.count) }
            copy.deallocate()
        }
        staged.removeAll(keepingCapacity: true)
    }

    /// Adds `bytes` handed to an all-reduce (`allReduced`) or a reduction or all-gather to
    /// `bytesSent`, as a ring algorithm sends them.
    func countSent(_ bytes: Int, allReduced: Bool) {
        bytesSent += bytes * (allReduced ? 2 : 1) * (size - 1) / size
    }
}
