import ArgumentParser
import DPO
import Distributed
import FileErrors
import Foundation
import Kernels
import RunReport

/// `dpo-ddp train`: DPO (optionally after SFT) of a GPT-2 on preference pairs, on one process or
/// many MPI ranks.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GPT-2 policy with DPO on preference pairs (the default command).",
        discussion: """
            Settings come from --config FILE (YAML, keys = the long options in snake_case, paths relative \
            to the file) and are overridden by options on the command line. Without --config and --data, \
            runs configs/default.yaml: the embedded default (a small GPT-2, bundled data, SFT then DPO).

            Examples:
              dpo-ddp train
              dpo-ddp train --config configs/default.yaml --learning-rate 5e-4
              dpo-ddp train --model path/to/gpt2 --data pairs.jsonl --batch-size 32 --micro-batch-size 4
              mpirun -np 4 dpo-ddp train --config my.yaml
              dpo-ddp train --config my.yaml --resume latest
            """)

    @Option(help: ArgumentHelp("YAML file of settings (snake_case option names).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Continue from a checkpoint: latest (the newest in --output-dir) or a checkpoint directory.",
                               valueName: "latest|dir"))
    var resume: String?

    @OptionGroup(title: "Training settings")
    var options: TrainOptions

    @Flag(help: "Run even when the memory plan does not fit this node's memory (see `dpo-ddp plan`, docs/memory.md).")
    var ignoreMemoryCheck = false

    func run() throws {
        let communicator = try CommunicatorFactory.make()
        do {
            try train(communicator: communicator)
            try communicator.finalize()
        } catch {
            communicator.abort(message: FileError.message(for: error), code: 1)
        }
    }

    func train(communicator: any Communicator) throws {
        let config = try options.resolved(configFile: self.config, worldSize: communicator.size)
        communicator.collectiveTimeout = config.collectiveTimeout > 0 ? config.collectiveTimeout : nil
        let isRoot = communicator.rank == 0
        try checkMemory(config: config, communicator: communicator)
        let (trainer, summary) = try TrainingRun.prepare(config: config, communicator: communicator, resume: resume)
        let output = URL(fileURLWithPath: config.outputDir)
        if isRoot {
            summary.forEach { print($0) }
            let lora = config.loraSettings.map { " (LoRA r \($0.rank): an adapter of \(trainer.trainableParameterCount) trains)" } ?? ""
            print("model \(config.model): \(trainer.parameterCount) parameters\(lora); \(communicator.size) rank(s) x "
                + "\(trainer.accumulationSteps) micro-batch(es) of \(trainer.microBatchSize) pairs = "
                + "\(config.batchSize) pairs per step; \(trainer.totalSteps) steps; output \(output.path)"
                + ["", "; ZeRO-1: optimiser state sharded over the ranks",
                   "; ZeRO-2: optimiser state and gradient sharded over the ranks"][config.zero])
            if config.bf16 && !MatmulBackends.nativeBFloat16 {
                print("warning: bf16: this CPU has neither AVX512_BF16 nor AMX, so bfloat16 matmuls are emulated "
                    + "and this run will be slower than without bf16")
            }
        }
        let progress = ProgressLine(totalSteps: trainer.totalSteps)
        trainer.onLog = { progress.show($0) }
        StopSignal.install()
        let outcome = try trainer.run()
        if isRoot, let signal = outcome.stoppedBy {
            progress.finish()
            print("stopped by \(StopSignal.name(signal)) after step \(outcome.step): checkpoint "
                + "\(CheckpointStore(directory: output).url(step: outcome.step).path); continue with --resume latest")
        } else if isRoot {
            progress.finish()
            let report = output.appendingPathComponent(ReportPage.fileName)
            try ReportPage(runDirectory: output).write(to: report)
            print("final model: \(output.appendingPathComponent("final").path)")
            print("metrics: \(output.appendingPathComponent("metrics.jsonl").path)")
            print("report: \(report.path)")
            if let accuracy = outcome.evalMetrics["rewards/accuracies"] {
                print(String(format: "held-out reward accuracy: %.3f", accuracy))
            }
        }
    }
}
