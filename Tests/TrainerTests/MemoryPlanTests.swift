import DPO
import GPT2
import PreferenceData
import XCTest

/// The memory plan's components against hand computation for GPT-2 124M (124,439,808 parameters:
/// 4 B each is 497,759,232 bytes), and its packed shapes against `ScoringInput`'s packing.
final class MemoryPlanTests: XCTestCase {
    let gpt2 = GPT2Config.named("gpt2")!
    /// One pair at max_length 512, planned at its largest: N = 2·512 rows, P = 2·512² per head,
    /// M = 2·511 targets.
    let longest = ForwardShape(rows: 1_024, probabilitiesPerHead: 524_288, targets: 1_022)
    /// GPT-2 124M's activation floats at `longest` (N = 1,024, NH·P = 6,291,456, M = 1,022): one
    /// block N·(7C + 2·4C + 4) + NH·P = 11,800,576 + 6,291,456 = 18,092,032; outside the blocks
    /// N·(2C + 2) + M·(C + V + 3) = 1,574,912 + 52,150,616 = 53,725,528; the backward buffers
    /// N·(6C + 2·4C) + M·(C + 1) + NH·P = 11,010,048 + 785,918 + 6,291,456 = 18,087,422; a
    /// residual [N, C] 786,432.
    let block = 18_092_032, outside = 53_725_528, backward = 18_087_422, residual = 786_432
    /// The policy's bytes, every block kept: 13 residuals, 12 blocks.
    var activations: Int { 4 * (13 * residual + 12 * block + outside + backward) }
    /// A frozen model's bytes: one residual and one block, no backward buffers.
    var frozenActivations: Int { 4 * (residual + block + outside) }

    func testGPT2OneRankLiveReference() {
        let plan = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 1, shape: longest))
        XCTAssertEqual(plan["weights"], 497_759_232)
        XCTAssertEqual(plan["bf16_weights"], 0)
        XCTAssertEqual(plan["gradients"], 497_759_232)
        XCTAssertEqual(plan["adamw_moments"], 995_518_464)
        XCTAssertEqual(plan["reference_weights"], 497_759_232)
        XCTAssertEqual(plan["reference_activations"], frozenActivations, "a frozen model keeps one block")
        XCTAssertEqual(plan["activations"], activations)
        XCTAssertEqual(plan["communication"], 0, "one rank reduces nothing")
        XCTAssertEqual(plan["runtime"], MemoryPlan.runtimeBytes)
        // Weights, gradients, two moments and the reference: 5 × 4 B per parameter.
        let step = 5 * 497_759_232 + activations + frozenActivations + MemoryPlan.runtimeBytes
        XCTAssertEqual(plan.stepBytes, step)
        // Writing a checkpoint streams the buffers themselves: no rank needs more than a step.
        XCTAssertEqual(plan["checkpoint_save"], 0)
        XCTAssertEqual(plan.peakBytes(rankZero: true), step)
        XCTAssertEqual(plan.peakBytes(rankZero: false), step)
    }

    /// 4 ranks, ZeRO-1, precomputed reference, bf16: shards of 124,439,808 / 4 = 31,109,952.
    func testGPT2FourRanksZeroOnePrecomputedBF16() {
        let plan = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 4, shape: longest, zero: 1, bf16: true,
                                                 reference: .precomputed))
        XCTAssertEqual(plan["bf16_weights"], 248_879_616)
        XCTAssertEqual(plan["gradients"], 497_759_232, "ZeRO-1 keeps the whole gradient")
        XCTAssertEqual(plan["adamw_moments"], 8 * 31_109_952)
        XCTAssertEqual(plan["reference_weights"], 0)
        XCTAssertEqual(plan["reference_activations"], 0)
        // ZeRO-1's reductions to each shard's owner: up to the whole gradient in flight.
        XCTAssertEqual(plan["communication"], 497_759_232)
        // 2 B × (dlogits M·V = 51,362,654 + activations N·4C = 3,145,728 + LM head input M·C = 784,896).
        let scratch = 2 * (51_362_654 + 3_145_728 + 784_896)
        XCTAssertEqual(plan["bf16_scratch"], scratch)
        let runtime = MemoryPlan.runtimeBytes + MemoryPlan.mpiRuntimeBytes
        XCTAssertEqual(plan["runtime"], runtime)
        // Start of DPO: the state, a frozen reference (6 B per parameter with its bf16 copy), its
        // forward buffers and the rounding scratch.
        let state = 497_759_232 + 248_879_616 + 497_759_232 + 8 * 31_109_952 + runtime
        XCTAssertEqual(plan["reference_precompute"], state + 746_638_848 + frozenActivations + scratch)

    }

    /// A fresh run's precompute scored by the policy: the state and the policy's activations at the
    /// precompute shape (here the training one, so no more than a step needs).
    func testPrecomputeByThePolicy() {
        let plan = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 1, shape: longest, reference: .precomputed,
                                                 precomputeByPolicy: true))
        XCTAssertEqual(plan["reference_precompute"], 4 * 497_759_232 + activations + MemoryPlan.runtimeBytes)
        XCTAssertEqual(plan.peakBytes(rankZero: false), plan.stepBytes)
    }

    /// ZeRO-2 keeps a quarter of the gradient and what backward wrote outside it until it is reduced; bf16 on the wire
    /// holds a bfloat16 copy of every bucket (2 B per parameter) and halves the buckets in flight.
    func testGPT2ZeroTwoAndBF16Wire() {
        let zero2 = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 4, shape: longest, zero: 2, reference: .none))
        XCTAssertEqual(zero2["gradients"], 4 * 31_109_952)
        XCTAssertEqual(zero2["adamw_moments"], 8 * 31_109_952)
        // Two 25 MiB buckets in flight, and the unreleased gradient outside the shard: the token
        // embedding's V·C = 38,597,376 and two blocks' 12·C² + 13·C = 7,087,872 each, 4 B apiece.
        XCTAssertEqual(zero2["communication"], 2 * 26_214_400 + 4 * (38_597_376 + 2 * 7_087_872))
        XCTAssertEqual(zero2["reference_weights"], 0)
        let wire = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 2, shape: longest, wire: .bf16))
        XCTAssertEqual(wire["communication"], 26_214_400 + 248_879_616)
        let reduced = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 2, shape: longest, zero: 1, wire: .bf16))
        XCTAssertEqual(reduced["communication"], 248_879_616 + 248_879_616, "in flight and staged, 2 B per parameter each")
        let oneBucket = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 2, shape: longest, bucketCapMB: 0))
        XCTAssertEqual(oneBucket["communication"], 497_759_232, "without buckets the whole gradient is one")
    }

    /// Checkpointed activations: the 13 residuals (each block's input and the last output) and one block.
    func testGPT2GradientCheckpointing() {
        let plan = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 1, shape: longest, gradientCheckpointing: true))
        XCTAssertEqual(plan["activations"], 4 * (13 * residual + block + outside + backward))
    }

    /// LoRA r 16 on c_attn, c_proj, c_fc of GPT-2 124M: 16·r·C = 196,608 adapter parameters per
    /// block (A [r, in] and B [out, r] of c_attn 768→2304, attn.c_proj 768→768, c_fc 768→3072,
    /// mlp.c_proj 3072→768), 2,359,296 in all (PEFT's count, docs/lora.md). The base is frozen: no
    /// gradient and no moments for it; the reference shares its weights, with --adapter holding a
    /// copy of the starting adapter; the activations add each block's four [N, r] adapter
    /// products (4·1,024·16 = 65,536 floats) and one [N, r] backward scratch (16,384).
    func testGPT2LoRA() {
        let lora = LoRASettings(rank: 16, alpha: 32, targets: ["c_attn", "c_proj", "c_fc"])
        let plan = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 1, shape: longest, lora: lora))
        XCTAssertEqual(plan.trainableParameters, 2_359_296)
        XCTAssertEqual(plan["weights"], 497_759_232, "the frozen base stays float32")
        XCTAssertEqual(plan["adapter_weights"], 9_437_184)
        XCTAssertEqual(plan["gradients"], 9_437_184, "the adapter's gradient only")
        XCTAssertEqual(plan["adamw_moments"], 18_874_368, "m and v of the adapter only")
        XCTAssertEqual(plan["reference_weights"], 0, "a fresh adapter's reference is the base, shared")
        XCTAssertEqual(plan["reference_activations"], frozenActivations)
        XCTAssertEqual(plan["activations"], activations + 4 * (12 * 65_536 + 16_384))
        let continued = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 1, shape: longest, lora: lora, referenceAdapter: true))
        XCTAssertEqual(continued["reference_weights"], 9_437_184, "--adapter: a frozen copy of the starting adapter")
        XCTAssertEqual(continued["reference_activations"], frozenActivations + 4 * 65_536, "one block's adapter products")
        XCTAssertEqual(continued.stepBytes - plan.stepBytes, 9_437_184 + 4 * 65_536)
    }

    /// LoRA with ZeRO-2 over 4 ranks: shards of ⌈2,359,296 / 4⌉ = 589,824; the whole adapter
    /// gradient (9,437,184 B) is below two 25 MiB buckets, and backward's unreleased part is two
    /// blocks' adapter gradient, 2·196,608 floats. With a bf16 wire at 2 ranks: half the
    /// gradient in flight and its bfloat16 copy.
    func testGPT2LoRAZeroTwoAndBF16Wire() {
        let lora = LoRASettings(rank: 16, alpha: 32, targets: ["c_attn", "c_proj", "c_fc"])
        let zero2 = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 4, shape: longest, zero: 2, lora: lora))
        XCTAssertEqual(zero2["gradients"], 4 * 589_824)
        XCTAssertEqual(zero2["adamw_moments"], 8 * 589_824)
        XCTAssertEqual(zero2["communication"], 9_437_184 + 4 * 2 * 196_608)
        let wire = MemoryPlan(MemoryPlanSettings(policy: gpt2, ranks: 2, shape: longest, wire: .bf16, lora: lora))
        XCTAssertEqual(wire["communication"], 4_718_592 + 4_718_592)
    }

    /// The planned shapes are the shapes `ScoringInput` packs: exactly for pairs of a given
    /// shape, shared prompt or not; and at max_length the largest any pair can take (reached by
    /// one-token prompts run unshared), never below a shared-prompt packing.
    func testShapesAreScoringInputsPacking() {
        func packed(_ pairs: Int, _ p: Int, _ c: Int, shared: Bool) -> ForwardShape {
            let batch = MicroBatch(pairs: PreferencePair.synthetic(count: pairs, promptTokens: p, completionTokens: c,
                                                                   vocabSize: 50_257, seed: 5), padID: 0)
            return ForwardShape(ScoringInput(batch, options: ScoringOptions(sharedPrompt: shared)).input)
        }
        for (pairs, p, c) in [(1, 5, 7), (3, 64, 64), (2, 1, 30)] {
            XCTAssertEqual(ForwardShape.pairs(pairs, promptTokens: p, completionTokens: c), packed(pairs, p, c, shared: true))
            XCTAssertEqual(ForwardShape.pairs(pairs, promptTokens: p, completionTokens: c, sharedPrompt: false),
                           packed(pairs, p, c, shared: false))
        }
        XCTAssertEqual(ForwardShape.longestPairs(3, maxLength: 40), packed(3, 1, 39, shared: false))
        for p in [1, 2, 20, 39] {
            let shape = packed(3, p, 40 - p, shared: true), longest = ForwardShape.longestPairs(3, maxLength: 40)
            XCTAssertEqual(shape.union(longest), longest, "prompt \(p)")
        }
    }
}
