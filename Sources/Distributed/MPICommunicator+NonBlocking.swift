import MPIShim

extension MPICommunicator {
    /// Starts `MPI_Iallreduce` (`MPI_SUM`, in place) of each chunk of `buffer`.
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try requireActive("MPI_Iallreduce")
        guard let base = buffer.baseAddress else { return }
        try forEachChunk(buffer.count) { start, count in
            var request: MPI_Request?
            try Self.check(MPI_Iallreduce(dpo_mpi_in_place(), base + start, count, dpo_mpi_float(), dpo_mpi_sum(),
                                          world, &request), "MPI_Iallreduce")
            collectivesStarted += 1
            pending.append(request)
            pendingOperation = "MPI_Iallreduce"
        }
    }

    /// Starts `MPI_Ireduce` (`MPI_SUM`) of each chunk of `buffer` to `root`, in place on `root`.
    ///
    /// MPI itself checks `root`, so an invalid one comes back as MPI's `MPI_ERR_ROOT` error.
    public func startReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        try requireActive("MPI_Ireduce")
        guard let base = buffer.baseAddress else { return }
        let isRoot = root == rank
        try forEachChunk(buffer.count) { start, count in
            let send: UnsafeMutableRawPointer? = isRoot ? dpo_mpi_in_place() : UnsafeMutableRawPointer(base + start)
            var request: MPI_Request?
            try Self.check(MPI_Ireduce(send, isRoot ? base + start : nil, count, dpo_mpi_float(), dpo_mpi_sum(),
                                       Int32(clamping: root), world, &request), "MPI_Ireduce")
            collectivesStarted += 1
            pending.append(request)
            pendingOperation = "MPI_Ireduce"
        }
    }

    /// `MPI_Testall` over the started requests; forgets them once all have completed.
    @discardableResult
    public func progress() throws -> Bool {
        guard !pending.isEmpty else { return true }
        try requireActive("MPI_Testall")
        var done: Int32 = 0
        try Self.check(MPI_Testall(Int32(pending.count), &pending, &done, dpo_mpi_statuses_ignore()), "MPI_Testall")
        if done != 0 { pending.removeAll(keepingCapacity: true) }
        return done != 0
    }

    /// Waits for the started requests (testing them, under `collectiveTimeout`); they are then forgotten.
    public func waitAll() throws {
        guard !pending.isEmpty else { return }
        try requireActive("MPI_Testall")
        defer { pending.removeAll(keepingCapacity: true) }
        try waitWatched(&pending, "\(pending.count) x \(pendingOperation)")
    }
}
