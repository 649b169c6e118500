import Distributed
import XCTest

/// The world of one: rank 0 of 1, collectives leave buffers as they are, root must be 0.
final class LocalCommunicatorTests: XCTestCase {
    func testIsRankZeroOfOne() {
        let communicator = LocalCommunicator()
        XCTAssertEqual(communicator.rank, 0)
        XCTAssertEqual(communicator.size, 1)
    }

    func testReductionsLeaveBuffersUnchanged() throws {
        let communicator = LocalCommunicator()
        var floats: [Float] = [1.5, -2, .infinity]
        var doubles: [Double] = [0.25, -1e300]
        var ints: [Int64] = [.min, 0, .max]
        try floats.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        try doubles.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        try ints.withUnsafeMutableBufferPointer { try communicator.allReduceSum($0) }
        try floats.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        try doubles.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        try ints.withUnsafeMutableBufferPointer { try communicator.allReduceMax($0) }
        XCTAssertEqual(floats, [1.5, -2, .infinity])
        XCTAssertEqual(doubles, [0.25, -1e300])
        XCTAssertEqual(ints, [.min, 0, .max])
    }

    func testNonBlockingReductionsAndAllGatherLeaveBuffersUnchanged() throws {
        let communicator = LocalCommunicator()
        var floats: [Float] = [1.5, -2, 3]
        try floats.withUnsafeMutableBufferPointer { buffer in
            try communicator.startAllReduceSum(buffer)
            try communicator.startReduceSum(buffer, root: 0)
            XCTAssertTrue(try communicator.progress())
            try communicator.waitAll()
            try communicator.allGather(buffer, shards: [0..<3])
        }
        XCTAssertEqual(floats, [1.5, -2, 3])
        XCTAssertThrowsError(try floats.withUnsafeMutableBufferPointer { try communicator.startReduceSum($0, root: 1) }) {
            XCTAssertEqual("\($0)", "reduce failed: root 1 is not a rank of a world of size 1 (the only rank is 0)")
        }
    }

    func testGatherCopiesTheShardIntoItsPlace() throws {
        let communicator = LocalCommunicator()
        let shard: [Float] = [7, 8]
        var whole: [Float] = [0, 0, 0, 0]
        try shard.withUnsafeBufferPointer { shard in
            try whole.withUnsafeMutableBufferPointer { try communicator.gather(shard, into: $0, shards: [1..<3], root: 0) }
        }
        XCTAssertEqual(whole, [0, 7, 8, 0])
        XCTAssertThrowsError(try shard.withUnsafeBufferPointer { shard in
            try whole.withUnsafeMutableBufferPointer { try communicator.gather(shard, into: $0, shards: [3..<5], root: 0) }
        })
    }

    func testBroadcastFromRootZeroLeavesBufferUnchanged() throws {
        let communicator = LocalCommunicator()
        var values: [Double] = [3, 1, 4]
        try values.withUnsafeMutableBufferPointer { try communicator.broadcast($0, root: 0) }
        XCTAssertEqual(values, [3, 1, 4])
    }

    func testBroadcastFromAnotherRootThrowsAClearError() {
        let communicator = LocalCommunicator()
        var bytes: [UInt8] = [7]
        XCTAssertThrowsError(
            try bytes.withUnsafeMutableBytes { try communicator.broadcast($0, root: 1) }
        ) { error in
            let mpiError = error as? MPIError
            XCTAssertEqual(mpiError?.operation, "broadcast")
            XCTAssertNil(mpiError?.code)
            XCTAssertEqual(
                "\(error)",
                "broadcast failed: root 1 is not a rank of a world of size 1 (the only rank is 0)")
        }
    }

    func testBarrierAndFinalizeReturn() throws {
        let communicator = LocalCommunicator()
        try communicator.barrier()
        try communicator.finalize()
        try communicator.finalize()
    }
}
