#!/usr/bin/env python3
"""scripts/scaling_table.py: the predicted step time and scaling efficiency table of
docs/distributed.md ("Slow links: what N nodes gain"), printed as Markdown.

Model (every input is a measurement in docs/ or a count from GPT-2's shapes):
  - compute per node and step: bench's default shape (2 pairs of 64 + 64 tokens per node, live
    reference) took COMPUTE_GPT2 s for GPT-2 124M on one 2-core node (1 rank x 2 threads,
    docs/distributed.md "Measured: buckets and ZeRO-1"); other sizes scale by the work of a step,
    8·N·tokens + 4·2·V·C·scored (StepFLOPs: policy forward + backward, reference forward, LM head),
    N = parameters outside the embeddings. LoRA skips the frozen weights' gradient matmuls:
    6·N·tokens + the same head work (adapter FLOPs are under 2% and left out).
  - communication per step: a ring all-reduce sends 2·(n-1)/n of the gradient per rank over the
    node's link; over 1 Gbit/s this predicts 3.98 s for GPT-2 124M at n = 2, as measured (about
    4 s of a 12 s step, docs/distributed.md). Counted as not overlapping the step (an upper bound:
    buckets overlap part of it with backward).
  - efficiency = compute / (compute + communication): the throughput per node against one node.
  - `bf16` as the argument: gradients sent as bfloat16 (--grad-comm-dtype bf16), 2 bytes a float.
Run: python3 scripts/scaling_table.py [fp32|bf16]
"""
import sys

COMPUTE_GPT2 = 3.20  # s per step, gpt2, 2 pairs of 64 + 64 tokens, 1 rank x 2 threads (measured)
VOCAB, POSITIONS = 50257, 1024
MODELS = {"gpt2": (12, 768), "gpt2-medium": (24, 1024), "gpt2-large": (36, 1280), "gpt2-xl": (48, 1600)}
NODES = [2, 4, 8, 16, 32, 64]
LINKS_GBPS = [1, 10, 100]
LORA_RANK = 16
TOKENS = 2 * 2 * (64 + 64)  # positions through the model per step: 2 pairs x (chosen, rejected) rows
SCORED = 2 * 2 * 64  # completion positions projected onto the vocabulary


def parameters(layers, channels):
    """GPT-2's parameter count (tied LM head): embeddings, per block 12·C² + 13·C, final LayerNorm."""
    return (VOCAB + POSITIONS) * channels + layers * (12 * channels * channels + 13 * channels) + 2 * channels


def lora_parameters(layers, channels):
    """LoRA r = 16 on c_attn (C -> 3C), attn.c_proj (C -> C), mlp.c_fc (C -> 4C), mlp.c_proj (4C -> C):
    r·(in + out) each, 16·r·C per block."""
    return layers * LORA_RANK * ((channels + 3 * channels) + (channels + channels) + (channels + 4 * channels)
                                 + (4 * channels + channels))


def work(layers, channels, lora):
    inner = parameters(layers, channels) - (VOCAB + POSITIONS) * channels
    head = 2 * VOCAB * channels * SCORED
    return (6 if lora else 8) * inner * TOKENS + 4 * head


def main(wire):
    float_bytes = {"fp32": 4, "bf16": 2}[wire]
    base = work(*MODELS["gpt2"], lora=False)
    print("| model | trained (gradient floats) | link | compute s/step | " + " | ".join(f"{n} nodes" for n in NODES) + " |")
    print("|---|---|---|---|" + "---|" * len(NODES))
    for name, (layers, channels) in MODELS.items():
        for lora in (False, True):
            count = lora_parameters(layers, channels) if lora else parameters(layers, channels)
            compute = COMPUTE_GPT2 * work(layers, channels, lora) / base
            for gbps in LINKS_GBPS:
                cells = []
                for n in NODES:
                    communication = 2 * (n - 1) / n * float_bytes * count * 8 / (gbps * 1e9)
                    step = compute + communication
                    cells.append(f"{step:.2f} s, {100 * compute / step:.0f}%")
                kind = f"LoRA r=16 ({count:,})" if lora else f"full ({count:,})"
                print(f"| {name} | {kind} | {gbps} Gbit/s | {compute:.2f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fp32")
