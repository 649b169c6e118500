import DPO
import Foundation
import GPT2
import XCTest

/// Bucketed gradient reduction and ZeRO-1 under `mpirun`: neither may change the numbers.
extension MultiRankTests {
    /// Weight decay on, so that decay on shards cutting through tensors is exercised too.
    var decay: [String] { ["--weight-decay", "0.1"] }

    /// Trains `ranks` ranks to completion (asserting success); returns the records and final weights.
    func trained(_ run: TinyRun, ranks: Int, output: String, _ extra: [String]) throws -> (records: [[String: Any]], weights: [Float]) {
        let outcome = try train(run, ranks: ranks, output: output, extra)
        XCTAssertEqual(outcome.status, 0, outcome.output)
        return (try TinyRun.records(run.directory.appendingPathComponent(output)), try finalWeights(run, output))
    }

    func assertSameRun(_ a: (records: [[String: Any]], weights: [Float]), _ b: (records: [[String: Any]], weights: [Float]),
                       _ run: TinyRun, file: StaticString = #filePath, line: UInt = #line) throws {
        assertSameMetrics(a.records, b.records, tolerance: trajectoryTolerance, file: file, line: line)
        XCTAssertLessThanOrEqual(maxTensorRelativeError(a.weights, b.weights, layout: try layout(run)), weightTolerance, file: file, line: line)
    }

    /// ZeRO-1 on 2 ranks (even shards) and on 3 ranks (811,744 parameters: shards of 270,582,
    /// 270,581 and 270,581, cutting through wte) with many small buckets, whose parts cross shard
    /// boundaries, against one rank with no communication: 12 pairs per step in micro-batches of 2.
    func testZeROOneOnTwoAndThreeRanksEqualsThePlainRun() throws {
        let run = try TinyRun(positions: 65)
        XCTAssertEqual(try layout(run).count % 3, 1, "uneven shards at 3 ranks")
        let common = ["--batch-size", "12", "--micro-batch-size", "2", "--max-steps", "4"] + decay
        let plain = try trained(run, ranks: 1, output: "plain", common)
        let plainTwo = try trained(run, ranks: 2, output: "plain2", common)
        try assertSameRun(plainTwo, plain, run)
        try assertSameRun(try trained(run, ranks: 2, output: "zero2", common + ["--zero", "1"]), plainTwo, run)
        try assertSameRun(try trained(run, ranks: 3, output: "zero3", common + ["--zero", "1", "--bucket-cap-mb", "0.01"]), plain, run)
    }

    /// A ZeRO-1 run's checkpoint (moments gathered from the shards) resumed without ZeRO on 1 rank,
    /// and a plain run's resumed with ZeRO-1 on 3 ranks (each slicing its shard), continue as the
    /// uninterrupted runs do: the steps after the checkpoint and the final weights.
    func testCheckpointsResumeWithAndWithoutZeRO() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "12", "--micro-batch-size", "2", "--max-steps", "6", "--save-steps", "3"] + decay
        for (saved, savedRanks, resumed, resumedRanks) in [(["--zero", "1"], 2, ["--zero", "0"], 1),
                                                          (["--zero", "0"], 2, ["--zero", "1"], 3)] {
            let name = "saved\(saved[1])"
            let whole = try trained(run, ranks: savedRanks, output: name, common + saved)
            let output = run.directory.appendingPathComponent("resumed\(saved[1])")
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: run.directory.appendingPathComponent("\(name)/checkpoint-3"),
                                             to: output.appendingPathComponent("checkpoint-3"))
            let continued = try trained(run, ranks: resumedRanks, output: output.lastPathComponent,
                                        common + resumed + ["--resume", "latest"])
            XCTAssertEqual(continued.records.map { $0["step"] as? Int }, [4, 5, 6])
            try assertSameRun(continued, (Array(whole.records.suffix(3)), whole.weights), run)
        }
    }

    /// Buckets of 0.001 MiB (262 floats: thousands per step, most started during backward) with 2
    /// micro-batches per rank, whose first must not communicate, equal one reduction after
    /// backward and one rank alone.
    func testManySmallBucketsEqualOneReductionAfterBackward() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "4"]
        let alone = try trained(run, ranks: 1, output: "alone", common)
        let whole = try trained(run, ranks: 2, output: "whole", common + ["--bucket-cap-mb", "0"])
        let buckets = try trained(run, ranks: 2, output: "buckets", common + ["--bucket-cap-mb", "0.001"])
        try assertSameRun(whole, alone, run)
        try assertSameRun(buckets, whole, run)
    }
}
