import DPO
import Foundation
import GPT2
import XCTest

/// LoRA under `mpirun`: the adapter's gradient is all that is reduced, ZeRO shards the adapter's
/// optimiser state, and the split over ranks is invisible in the numbers (the issue asks 1e-5;
/// the suite's `trajectoryTolerance` and `weightTolerance` are tighter: only the order float32
/// gradients are summed in differs).
extension MultiRankTests {
    /// The final adapter (`final/`, PEFT's form) of run directory `output`.
    func finalAdapter(_ run: TinyRun, _ output: String) throws -> LoRAAdapter {
        try PEFTAdapter.load(from: run.directory.appendingPathComponent("\(output)/final"), config: try run.modelConfig())
    }

    /// 1 rank of 4 micro-batches, 2 ranks of 2, and 2 ranks with ZeRO-2 (the adapter's gradient and
    /// moments sharded) and `--debug` (each logged step compares the ranks' adapters): the same
    /// metrics and adapter.
    func testLoRAOnOneAndTwoRanksTrainsTheSameAdapter() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "4", "--lora-r", "4"]
        var records: [[[String: Any]]] = [], adapters: [LoRAAdapter] = []
        for (index, (ranks, extra)) in [(1, [String]()), (2, []), (2, ["--zero", "2", "--debug"])].enumerated() {
            let outcome = try train(run, ranks: ranks, output: "run\(index)", common + extra)
            XCTAssertEqual(outcome.status, 0, outcome.output)
            records.append(try TinyRun.records(run.directory.appendingPathComponent("run\(index)")))
            adapters.append(try finalAdapter(run, "run\(index)"))
        }
        for i in 1..<3 {
            assertSameMetrics(records[0], records[i], tolerance: trajectoryTolerance)
            XCTAssertLessThanOrEqual(maxTensorRelativeError(adapters[i].parameters.array, adapters[0].parameters.array,
                                                            layout: adapters[0].layout), weightTolerance)
        }
    }

    /// A 2-rank ZeRO-2 LoRA checkpoint (one optimiser shard of the adapter per rank) resumed on
    /// 1 rank without ZeRO continues the uninterrupted 2-rank run.
    func testResumingATwoRankZeROLoRACheckpointOnOneRank() throws {
        let run = try TinyRun()
        let common = ["--batch-size", "8", "--micro-batch-size", "2", "--max-steps", "6", "--save-steps", "3", "--lora-r", "4"]
        XCTAssertEqual(try train(run, ranks: 2, output: "whole", common + ["--zero", "2"]).status, 0)
        try ResumeMidEpochTests.startFrom(run, checkpoint: 3, of: "whole", into: "resumed")
        let outcome = try train(run, ranks: 1, output: "resumed", common + ["--resume", "latest"])
        XCTAssertEqual(outcome.status, 0, outcome.output)
        let records = try TinyRun.records(run.directory.appendingPathComponent("resumed"))
        XCTAssertEqual(records.map { $0["step"] as? Int }, [4, 5, 6])
        assertSameMetrics(Array(try TinyRun.records(run.directory.appendingPathComponent("whole")).suffix(3)), records,
                          tolerance: trajectoryTolerance)
        let whole = try finalAdapter(run, "whole")
        XCTAssertLessThanOrEqual(maxTensorRelativeError(try finalAdapter(run, "resumed").parameters.array, whole.parameters.array,
                                                        layout: whole.layout), weightTolerance)
    }
}
