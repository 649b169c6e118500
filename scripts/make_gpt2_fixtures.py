#!/usr/bin/env python3
"""Generate the PyTorch parity fixtures for the Swift GPT-2 / DPO implementation.

Run by hand (never in CI) from the repository root, with torch, transformers and safetensors
installed; no network and no Hugging Face Hub access are needed:

    python3 scripts/make_gpt2_fixtures.py

It (re)writes Tests/ParityTests/Fixtures/ (~14 MB in total):

  tiny-gpt2/                  GPT2LMHeadModel(vocab 50257, n_positions 32, n_embd 16, 2 layers,
                              2 heads, gelu_new, no dropout, tied embeddings) as written by
                              save_pretrained(safe_serialization=True): config.json,
                              generation_config.json, model.safetensors (F32). After Hugging Face's
                              own init, LayerNorm weights are 1 + 0.1*randn and every LayerNorm and
                              Conv1D bias is 0.02*randn, so that every parameter affects the output.
                              No tokenizer files.
  tiny-gpt2-f16/              the same weights after model.half(), saved the same way (F16).
  parity_inputs.json          a batch of 2 preference pairs (4 rows), DPO and AdamW settings, and
                              scalar expectations (see build_inputs and main for the layout).
  parity_expected.safetensors F32 tensors:
                                logits            [8, V] at parity_inputs.json "logit_rows"
                                f16_logits        [8, V] same rows, tiny-gpt2-f16 run in float32
                                grad.<name>       gradient of the DPO loss at the initial weights
                                                  (policy == reference, loss == log 2)
                                after_adamw.<name> weights after 3 steps of
                                                  forward, loss, backward, clip, AdamW
                              <name> is exactly the key in tiny-gpt2/model.safetensors; Conv1D
                              weights keep their [in, out] layout. The tied wte / lm_head matrix is
                              one parameter, transformer.wte.weight, whose gradient is the sum of
                              the embedding and output-projection contributions.

Numerics: float32 model and optimizer; eager attention (the textbook softmax(QK^T/sqrt(d)+mask)V
that the Swift kernels mirror); per-token log-probs from float32 log_softmax, summed over
completion tokens and fed to the DPO loss in float64. One CPU thread and
torch.use_deterministic_algorithms(True), so reruns with the same library versions reproduce the
files bit for bit. The library versions are stored in the safetensors metadata.

The script checks itself: both checkpoints reload through from_pretrained with logits equal to
the in-memory models, the attention mask leaves real tokens' logits unchanged, the step-0 loss is
log 2, and the whole 3-step run replayed in float64 shows how closely an independent float32
implementation can be expected to agree (printed at the end).
"""

import copy
import json
import math
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel, Trainer
from transformers.pytorch_utils import Conv1D

FIXTURES = Path(__file__).resolve().parent.parent / "Tests" / "ParityTests" / "Fixtures"
CHECKPOINT_F32 = FIXTURES / "tiny-gpt2"
CHECKPOINT_F16 = FIXTURES / "tiny-gpt2-f16"

PAD_ID = 50256  # GPT-2's <|endoftext|>, used for right padding
SEQ_LEN = 16  # T
# Rows are [pair0 chosen, pair1 chosen, pair0 rejected, pair1 rejected].
LENGTHS = [16, 13, 15, 11]
PROMPT_LENGTHS = [5, 7, 5, 7]
# (row, position) pairs whose full logit vectors are stored; every row, first/middle/last positions.
LOGIT_ROWS = [[0, 0], [0, 15], [1, 6], [1, 12], [2, 4], [2, 14], [3, 7], [3, 10]]
BETA = 0.1
ADAMW = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1, "steps": 3}


def make_config() -> GPT2Config:
    return GPT2Config(
        vocab_size=50257,
        n_positions=32,
        n_embd=16,
        n_layer=2,
        n_head=2,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        layer_norm_epsilon=1e-5,
        tie_word_embeddings=True,
    )


def make_model() -> GPT2LMHeadModel:
    """HF-initialised tiny GPT-2 with noisy LayerNorm parameters and biases (global torch RNG)."""
    model = GPT2LMHeadModel(make_config())
    model.set_attn_implementation("eager")
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1.0 + 0.1 * torch.randn_like(module.weight))
                module.bias.copy_(0.02 * torch.randn_like(module.bias))
            elif isinstance(module, Conv1D):
                module.bias.copy_(0.02 * torch.randn_like(module.bias))
    assert model.lm_head.weight is model.transformer.wte.weight, "embeddings must be tied"
    # Dropout probabilities are all 0, so eval() and train() compute the same function.
    return model.eval()


def build_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """Random right-padded token ids (global torch RNG) and the matching attention mask.

    Real tokens are drawn from [0, 50256) so that PAD_ID only ever marks padding; the last two
    tokens of every row are forced into [50000, 50256) to exercise the top of the vocabulary.
    Each pair's rejected row copies its chosen row's prompt; the completions are independent draws.
    """
    batch = len(LENGTHS)
    pairs = batch // 2
    ids = torch.full((batch, SEQ_LEN), PAD_ID, dtype=torch.long)
    for b, length in enumerate(LENGTHS):
        ids[b, :length] = torch.randint(0, PAD_ID, (length,))
        ids[b, length - 2 : length] = torch.randint(50000, PAD_ID, (2,))
    for i in range(pairs):
        p = PROMPT_LENGTHS[i]
        assert PROMPT_LENGTHS[i + pairs] == p, "a pair's rows share the prompt length"
        ids[i + pairs, :p] = ids[i, :p]
        assert not torch.equal(ids[i, p:], ids[i + pairs, p:]), "completions must differ"
    positions = torch.arange(SEQ_LEN)
    attention_mask = (positions[None, :] < torch.tensor(LENGTHS)[:, None]).long()
    return ids, attention_mask


def completion_mask(ids: torch.Tensor) -> torch.Tensor:
    """[B, T-1] bool: target position t+1 is a completion token (prompt_length <= t+1 < length)."""
    targets = torch.arange(1, ids.shape[1])
    return (targets[None, :] >= torch.tensor(PROMPT_LENGTHS)[:, None]) & (
        targets[None, :] < torch.tensor(LENGTHS)[:, None]
    )


def sequence_logps(model, ids, attention_mask) -> torch.Tensor:
    """[B] float64: sum over completion tokens t of log_softmax(logits[b, t-1])[ids[b, t]].

    log_softmax runs in the model's dtype; only the per-row sum is accumulated in float64.
    """
    logits = model(input_ids=ids, attention_mask=attention_mask).logits
    token_logps = torch.gather(F.log_softmax(logits[:, :-1], dim=-1), 2, ids[:, 1:, None])[..., 0]
    return (token_logps.double() * completion_mask(ids)).sum(dim=1)


def dpo_loss(policy_logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """Sigmoid DPO loss, mean over pairs; rows are [chosen..., rejected...]."""
    pairs = policy_logps.shape[0] // 2
    delta = policy_logps - ref_logps
    chosen, rejected = delta[:pairs], delta[pairs:]
    return -F.logsigmoid(BETA * (chosen - rejected)).mean()


def no_decay_names(model) -> list[str]:
    """Parameters excluded from weight decay: every bias and every LayerNorm weight.

    Cross-checked against the grouping Hugging Face's Trainer uses (its method does not use self).
    """
    def owner(name):
        return model.get_submodule(name.rsplit(".", 1)[0])

    names = [
        name
        for name, _ in model.named_parameters()
        if name.endswith(".bias") or isinstance(owner(name), torch.nn.LayerNorm)
    ]
    trainer_decay = set(Trainer.get_decay_parameter_names(None, model))
    assert set(names) == {n for n, _ in model.named_parameters()} - trainer_decay
    return names


def train(model, ids, attention_mask, ref_logps, no_decay, max_norm=None) -> dict:
    """ADAMW["steps"] steps of forward, DPO loss, backward, clip_grad_norm_, AdamW.step.

    With max_norm=None, the clip threshold is set to half of the step-0 gradient norm, so that
    clipping is active. Returns per-step losses and pre-clipping norms, the step-0 gradients,
    the threshold used, and the final parameters.
    """
    named = dict(model.named_parameters())  # tied wte/lm_head appears once
    params = list(named.values())
    decay = [p for n, p in named.items() if n not in no_decay]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": ADAMW["weight_decay"]},
            {"params": [p for n, p in named.items() if n in no_decay], "weight_decay": 0.0},
        ],
        lr=ADAMW["lr"],
        betas=(ADAMW["beta1"], ADAMW["beta2"]),
        eps=ADAMW["eps"],
        foreach=False,
    )
    losses, norms = [], []
    for step in range(ADAMW["steps"]):
        optimizer.zero_grad(set_to_none=True)
        loss = dpo_loss(sequence_logps(model, ids, attention_mask), ref_logps)
        loss.backward()
        if step == 0:
            grads0 = {n: p.grad.detach().clone() for n, p in named.items()}
            if max_norm is None:
                max_norm = 0.5 * torch.nn.utils.get_total_norm([p.grad for p in params]).item()
        norms.append(torch.nn.utils.clip_grad_norm_(params, max_norm).item())
        losses.append(loss.item())
        optimizer.step()
    return {
        "loss_per_step": losses,
        "grad_norm": norms,
        "max_grad_norm": max_norm,
        "grads0": grads0,
        "final": {n: p.detach().clone() for n, p in named.items()},
    }


def rows_logits(model, ids, attention_mask) -> torch.Tensor:
    """[8, V] float32 logits at LOGIT_ROWS."""
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=attention_mask).logits.float()
    b, t = torch.tensor(LOGIT_ROWS).T
    return logits[b, t].contiguous()


def reload(directory: Path) -> GPT2LMHeadModel:
    model = GPT2LMHeadModel.from_pretrained(directory, attn_implementation="eager")
    return model.eval()


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)

    model = make_model()
    ids, attention_mask = build_inputs()
    reference = copy.deepcopy(model).requires_grad_(False)

    # The padding mask must not change real tokens' logits (right padding + causal attention).
    with torch.no_grad():
        masked = model(input_ids=ids, attention_mask=attention_mask).logits
        unmasked = model(input_ids=ids).logits
    real = attention_mask.bool()
    mask_effect = (masked[real] - unmasked[real]).abs().max().item()
    assert mask_effect == 0.0, f"attention mask changed real-token logits by {mask_effect}"

    for stale in (CHECKPOINT_F32, CHECKPOINT_F16):
        shutil.rmtree(stale, ignore_errors=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(CHECKPOINT_F32, safe_serialization=True)
    copy.deepcopy(model).half().save_pretrained(CHECKPOINT_F16, safe_serialization=True)

    logits = rows_logits(model, ids, attention_mask)
    reloaded = rows_logits(reload(CHECKPOINT_F32), ids, attention_mask)
    assert torch.equal(reloaded, logits), "tiny-gpt2 reload changed the logits"
    f16_logits = rows_logits(copy.deepcopy(model).half().float(), ids, attention_mask)
    f16_file = safe_open(CHECKPOINT_F16 / "model.safetensors", "pt")
    assert all(f16_file.get_slice(k).get_dtype() == "F16" for k in f16_file.keys()), "F16 checkpoint"
    reloaded16 = rows_logits(reload(CHECKPOINT_F16).float(), ids, attention_mask)
    assert torch.equal(reloaded16, f16_logits), "tiny-gpt2-f16 reload changed the logits"

    with torch.no_grad():
        ref_logps = sequence_logps(reference, ids, attention_mask)
    no_decay = no_decay_names(model)
    run = train(model, ids, attention_mask, ref_logps, no_decay)
    assert abs(run["loss_per_step"][0] - math.log(2)) < 1e-6, run["loss_per_step"]

    # The same run in float64 (same threshold): how far float32 rounding alone moves the results.
    model64 = copy.deepcopy(reference).double().requires_grad_(True)
    with torch.no_grad():
        ref_logps64 = sequence_logps(model64, ids, attention_mask)
    run64 = train(model64, ids, attention_mask, ref_logps64, no_decay, run["max_grad_norm"])

    keys = safe_open(CHECKPOINT_F32 / "model.safetensors", "pt").keys()
    assert set(keys) == set(run["final"]), f"checkpoint keys {sorted(keys)} != parameters"
    tensors = {"logits": logits, "f16_logits": f16_logits}
    tensors |= {f"grad.{n}": g.contiguous() for n, g in run["grads0"].items()}
    tensors |= {f"after_adamw.{n}": p.contiguous() for n, p in run["final"].items()}
    # One metadata entry: safetensors writes several in a random order, which breaks reproducibility.
    metadata = {
        "generator": f"scripts/make_gpt2_fixtures.py (torch {torch.__version__}, "
        f"transformers {transformers.__version__})"
    }
    save_file(tensors, FIXTURES / "parity_expected.safetensors", metadata=metadata)

    inputs = {
        "batch": len(LENGTHS),
        "input_ids": ids.tolist(),
        "lengths": LENGTHS,
        "prompt_lengths": PROMPT_LENGTHS,
        "beta": BETA,
        "logit_rows": LOGIT_ROWS,
        "adamw": {k: ADAMW[k] for k in ("lr", "beta1", "beta2", "eps", "weight_decay")}
        | {"max_grad_norm": run["max_grad_norm"], "steps": ADAMW["steps"]},
        "no_decay": no_decay,
        "expected": {
            "logps": ref_logps.tolist(),
            "loss": run["loss_per_step"][0],
            "grad_norm": run["grad_norm"],
            "loss_per_step": run["loss_per_step"],
        },
    }
    (FIXTURES / "parity_inputs.json").write_text(json.dumps(inputs, indent=1) + "\n")

    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    print(f"tiny-gpt2 keys ({len(keys)}): {sorted(keys)}")
    print(f"no_decay ({len(no_decay)}): {no_decay}")
    print(f"logps (float64 sums): {ref_logps.tolist()}")
    print(f"max_grad_norm M = {run['max_grad_norm']!r}")
    for step, (loss, norm) in enumerate(zip(run["loss_per_step"], run["grad_norm"])):
        coef = min(1.0, run["max_grad_norm"] / (norm + 1e-6))
        print(f"step {step}: loss {loss!r}  grad_norm {norm!r}  clip_coef {coef:.6f}")
    print(f"F16 checkpoint: max |f16_logits - logits| = {(f16_logits - logits).abs().max().item():.3e}")
    def max_diff(key):
        return max((a - b).abs().max().item() for a, b in zip(run[key].values(), run64[key].values()))

    print("float64 replay vs float32 fixture (max abs difference):")
    for key in ("loss_per_step", "grad_norm"):
        print(f"  {key} {max(abs(a - b) for a, b in zip(run[key], run64[key])):.3e}")
    largest_grad = max(g.abs().max().item() for g in run["grads0"].values())
    print(f"  grad.* {max_diff('grads0'):.3e} (largest |grad| {largest_grad:.3e})")
    print(f"  after_adamw.* {max_diff('final'):.3e}")
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:>10}  {path.relative_to(FIXTURES)}")
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    print(f"{total:>10}  total bytes")


if __name__ == "__main__":
    main()
