#!/usr/bin/env python3
"""The PyTorch baseline of `dpo-ddp bench`: one DPO optimiser step as TRL's DPOTrainer runs it.

Plain PyTorch + transformers, no TRL import and no Hub download: a randomly initialised
GPT2LMHeadModel built from GPT2Config (dropout off, as DPOTrainer's `disable_dropout`), a frozen
deep copy as the reference, and per step what DPOTrainer does with its defaults:

    concatenated forward of [chosen; rejected] rows (prompt + completion), logits at every position
    log-softmax + gather of the next tokens (TRL's selective_log_softmax), completion tokens summed
    the same forward of the reference model under no_grad
    sigmoid DPO loss -log sigmoid(beta * ((pc - pr) - (rc - rr))), mean over pairs; backward
    clip_grad_norm_(1.0), torch.optim.AdamW step, zero_grad

With --bf16, both forwards and the loss run under torch.autocast("cpu", dtype=torch.bfloat16), as
the Trainer runs them with TRL's bf16=True on a CPU (backward follows the forward's dtypes).
With --gradient-checkpointing, the policy recomputes each block's activations in backward
(transformers' activation checkpointing, as TRL's gradient_checkpointing=True).

Random token ids (seeded), every pair a shared prompt of P tokens and two completions of C tokens.
After the warm-up steps, the median of the timed steps is reported as one JSON line:
{"seconds_per_step", "pairs_per_second", "peak_rss_bytes", "torch", "transformers", "threads", ...}.
Exits with status 3 and a one-line reason when torch or transformers cannot be imported.

    python3 scripts/bench_pytorch.py --pairs 2 --prompt-tokens 64 --completion-tokens 64 --steps 4 --threads 2
"""
import argparse
import contextlib
import copy
import json
import resource
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel
except ImportError as error:
    print(f"cannot import torch and transformers: {error} (pip install torch transformers)", file=sys.stderr)
    sys.exit(3)


def selective_log_softmax(logits, index):
    """TRL's float32 path: gather the chosen logits, subtract each row's logsumexp (row by row)."""
    selected = torch.gather(logits, dim=-1, index=index.unsqueeze(-1)).squeeze(-1)
    logsumexp = torch.stack([torch.logsumexp(row, dim=-1) for row in logits])
    return selected - logsumexp


def sequence_logps(model, input_ids, loss_mask):
    """TRL's concatenated_forward: summed completion log-probs per row, and the logits."""
    logits = model(input_ids=input_ids).logits
    labels = torch.roll(input_ids, shifts=-1, dims=1)
    mask = torch.roll(loss_mask, shifts=-1, dims=1).bool()
    per_token = selective_log_softmax(logits, labels)
    per_token[~mask] = 0
    return per_token.sum(-1), logits, mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--completion-tokens", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--n-layer", type=int, default=12)
    parser.add_argument("--n-head", type=int, default=12)
    parser.add_argument("--n-embd", type=int, default=768)
    parser.add_argument("--n-positions", type=int, default=1024)
    parser.add_argument("--vocab-size", type=int, default=50257)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bf16", action="store_true", help="autocast to bfloat16, as TRL's bf16=True")
    parser.add_argument("--gradient-checkpointing", action="store_true",
                        help="transformers' gradient checkpointing on the policy, as TRL's gradient_checkpointing=True")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    config = GPT2Config(n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                        n_positions=args.n_positions, vocab_size=args.vocab_size,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, use_cache=False)
    policy = GPT2LMHeadModel(config).train()
    reference = copy.deepcopy(policy).eval().requires_grad_(False)
    if args.gradient_checkpointing:  # transformers 5.x's name; 4.x calls it gradient_checkpointing_enable
        if hasattr(policy, "activation_checkpointing_enable"):
            policy.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            policy.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    optimizer = torch.optim.AdamW(policy.parameters(), lr=args.learning_rate, weight_decay=0.0)

    p, c, n = args.prompt_tokens, args.completion_tokens, args.pairs
    prompt = torch.randint(0, args.vocab_size, (n, p))
    chosen = torch.cat([prompt, torch.randint(0, args.vocab_size, (n, c))], dim=1)
    rejected = torch.cat([prompt, torch.randint(0, args.vocab_size, (n, c))], dim=1)
    input_ids = torch.cat([chosen, rejected], dim=0)
    loss_mask = torch.cat([torch.zeros(2 * n, p), torch.ones(2 * n, c)], dim=1)

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16) if args.bf16 else contextlib.nullcontext()

    def step() -> float:
        start = time.perf_counter()
        with autocast():
            logps, logits, mask = sequence_logps(policy, input_ids, loss_mask)
            with torch.no_grad():
                ref_logps, _, _ = sequence_logps(reference, input_ids, loss_mask)
            margin = (logps[:n] - logps[n:]) - (ref_logps[:n] - ref_logps[n:])
            loss = -F.logsigmoid(args.beta * margin).mean()
            # The logits/chosen and logits/rejected metrics DPOTrainer logs.
            _ = (logits[:n][mask[:n]].detach().mean(), logits[n:][mask[n:]].detach().mean())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        return time.perf_counter() - start

    for _ in range(args.warmup):
        step()
    seconds = statistics.median(step() for _ in range(args.steps))
    print(json.dumps({
        "seconds_per_step": seconds,
        "pairs_per_second": n / seconds,
        "tokens_per_second": 2 * n * (p + c) / seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "bf16": args.bf16,
        "gradient_checkpointing": args.gradient_checkpointing,
    }))


if __name__ == "__main__":
    main()
