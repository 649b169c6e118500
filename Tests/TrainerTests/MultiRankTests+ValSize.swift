import DPO
import Foundation
import XCTest

/// val_size under `mpirun`: 1, 2 and 4 ranks hold out the same pairs and log the same eval metrics.
extension MultiRankTests {
    func testValSizeSplitIsTheSameOnOneTwoAndFourRanks() throws {
        let run = try TinyRun()
        var records: [[[String: Any]]] = [], splits: [DataSplit?] = []
        for ranks in [1, 2, 4] {
            let output = "np\(ranks)"
            let outcome = try train(run, ranks: ranks, output: output,
                                               ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "3", "--val-size", "0.25",
                                                "--eval-steps", "1"])
            XCTAssertEqual(outcome.status, 0, outcome.output)
            XCTAssertTrue(outcome.output.contains("val_size 0.25: 6 of 24 pairs held out for evaluation, 18 left for training (seed 3)"),
                          outcome.output)
            records.append(try TinyRun.records(run.directory.appendingPathComponent(output)))
            splits.append(try DataSplit.read(in: run.directory.appendingPathComponent(output)))
        }
        XCTAssertNotNil(splits[0])
        XCTAssertEqual(splits[1], splits[0])
        XCTAssertEqual(splits[2], splits[0])
        XCTAssertEqual(records[0].filter { $0["eval_loss"] != nil }.count, 3)
        assertSameMetrics(records[0], records[1], tolerance: trajectoryTolerance)
        assertSameMetrics(records[0], records[2], tolerance: trajectoryTolerance)
    }
}
