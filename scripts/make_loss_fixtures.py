#!/usr/bin/env python3
"""Generate Tests/DPOTests/Fixtures/losses.json: expected preference losses, gradients and rewards.

Every case is one batch of pairs (summed completion log-probs of policy and reference, completion
token counts) with loss settings. The expected values come from TRL 1.16's own code wherever TRL has
the loss, run in float64 with a stub `self`:

- `trl.DPOTrainer._compute_loss` for sigmoid, robust, hinge, ipo, sigmoid_norm, sppo_hard, nca_pair,
  bco_pair, apo_zero, apo_down, sft and their weighted combinations. The stub model returns per-token
  log-probs equal to (summed log-prob / n) on each of the n completion positions, so TRL sums them back
  to the summed log-prob, and its completion mask gives the token counts TRL's ipo, sigmoid_norm and
  sft divide by. Reference log-probs are passed precomputed (`precompute_ref_logps=True`).
- `trl.experimental.cpo.CPOTrainer.cpo_loss` for simpo, fed the mean per-token log-probs that
  `CPOTrainer.concatenated_forward` makes for simpo (`average_log_prob=True`).

Where we deliberately differ from TRL 1.16 the expectation is computed from the formula with torch:
- sigmoid with label_smoothing ε > 0 is cDPO, −(1−ε)·logσ(βz) − ε·logσ(−βz) (TRL 1.16 ignores ε for
  sigmoid; the script asserts that it does).
- reference_free: TRL 1.16 has no such option; the expectation is TRL's loss with the reference
  log-probs set to 0. sft alone needs no reference either, so its cases also pass 0 (rewards β·logπ).

Gradients are torch.autograd's, with respect to each pair's summed policy log-probs, multiplied by the
batch size (TRL returns the batch mean; the Swift API returns per-pair derivatives).

    python3 scripts/make_loss_fixtures.py
"""
import collections
import json
import os
import types

import torch
import torch.nn.functional as F
import trl
from trl import DPOTrainer
from trl.experimental.cpo import CPOTrainer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "DPOTests", "Fixtures", "losses.json")
DTYPE = torch.float64

# (policy chosen, policy rejected, reference chosen, reference rejected, chosen tokens, rejected tokens)
GRID = [
    (-12.0, -15.0, -13.25, -14.0, 6, 8),
    (-40.5, -38.25, -41.0, -36.0, 20, 17),
    (-3.0, -3.0, -3.0, -3.0, 1, 1),
    (-7.25, -30.0, -9.5, -22.0, 5, 31),
    (-55.0, -54.0, -50.0, -58.0, 12, 12),
    (-0.5, -80.0, -1.5, -60.0, 2, 64),
    # Large |β·z|: stresses numerically stable log-sigmoid (|z| in the thousands).
    (-10.0, -3010.0, -12.0, -8.0, 40, 400),
    (-3010.0, -10.0, -8.0, -12.0, 400, 40),
    (-900.0, -2.0, -1.0, -950.0, 300, 3),
]
BETAS = [0.1, 0.5]


def pairs_of(grid):
    keys = ["policy_chosen", "policy_rejected", "reference_chosen", "reference_rejected",
            "chosen_tokens", "rejected_tokens"]
    return [dict(zip(keys, p)) for p in grid]


def leaves(pairs):
    chosen = torch.tensor([p["policy_chosen"] for p in pairs], dtype=DTYPE, requires_grad=True)
    rejected = torch.tensor([p["policy_rejected"] for p in pairs], dtype=DTYPE, requires_grad=True)
    return chosen, rejected


def result(loss, chosen, rejected, batch, chosen_reward, rejected_reward, source):
    loss.backward()
    return {
        "source": source,
        "loss": loss.item(),
        "d_policy_chosen": (chosen.grad * batch).tolist(),
        "d_policy_rejected": (rejected.grad * batch).tolist(),
        "chosen_reward": chosen_reward,
        "rejected_reward": rejected_reward,
    }


def trl_dpo(settings, pairs):
    """Batch-mean loss, per-pair gradients and batch-mean rewards from DPOTrainer._compute_loss."""
    batch = len(pairs)
    chosen, rejected = leaves(pairs)
    counts = [p["chosen_tokens"] for p in pairs] + [p["rejected_tokens"] for p in pairs]
    length = 1 + max(counts)  # one prompt token, then the completion, then padding
    completion_mask = torch.zeros(2 * batch, length, dtype=torch.long)
    for row, n in enumerate(counts):
        completion_mask[row, 1:1 + n] = 1
    shift_mask = completion_mask[:, 1:].to(DTYPE)
    summed = torch.cat([chosen, rejected])
    per_token = (summed / torch.tensor(counts, dtype=DTYPE)).unsqueeze(1) * shift_mask

    def model(**_):
        zeros = torch.zeros_like(shift_mask)
        return types.SimpleNamespace(log_probs=per_token, entropy=zeros, mean_logits=zeros,
                                     is_top1=zeros.bool())

    ref_zero = settings["reference_free"] or not any(t not in ("sft", "simpo") for t in settings["types"])
    reference = lambda key: torch.tensor([0.0 if ref_zero else p[key] for p in pairs], dtype=DTYPE)
    inputs = {
        "input_ids": torch.zeros(2 * batch, length, dtype=torch.long),
        "attention_mask": torch.ones(2 * batch, length, dtype=torch.long),
        "completion_mask": completion_mask,
        "ref_chosen_logps": reference("reference_chosen"),
        "ref_rejected_logps": reference("reference_rejected"),
    }
    accelerator = types.SimpleNamespace(device=torch.device("cpu"), gather=lambda x: x,
                                        gather_for_metrics=lambda x: x)
    stub = types.SimpleNamespace(
        model=types.SimpleNamespace(training=True), accelerator=accelerator, aux_loss_enabled=False,
        ld_alpha=None, precompute_ref_logps=True, f_divergence_type="reverse_kl",
        f_alpha_divergence_coef=0.5, loss_types=settings["types"], loss_weights=settings["weights"],
        beta=settings["beta"], label_smoothing=settings["label_smoothing"], use_weighting=False,
        _metrics={"train": collections.defaultdict(list)}, _total_train_tokens=0, _tp_size=1,
        args=types.SimpleNamespace(discopop_tau=0.05))
    loss = DPOTrainer._compute_loss(stub, model, inputs, return_outputs=False)
    metrics = stub._metrics["train"]
    return result(loss, chosen, rejected, batch, metrics["rewards/chosen"][-1],
                  metrics["rewards/rejected"][-1], "trl.DPOTrainer._compute_loss")


def trl_simpo(settings, pairs):
    """SimPO from CPOTrainer.cpo_loss on mean per-token log-probs."""
    batch = len(pairs)
    chosen, rejected = leaves(pairs)
    chosen_mean = chosen / torch.tensor([p["chosen_tokens"] for p in pairs], dtype=DTYPE)
    rejected_mean = rejected / torch.tensor([p["rejected_tokens"] for p in pairs], dtype=DTYPE)
    stub = types.SimpleNamespace(alpha=0.0, loss_type="simpo", simpo_gamma=settings["simpo_gamma"],
                                 beta=settings["beta"], label_smoothing=settings["label_smoothing"],
                                 accelerator=types.SimpleNamespace(device=torch.device("cpu")))
    losses, chosen_rewards, rejected_rewards = CPOTrainer.cpo_loss(stub, chosen_mean, rejected_mean)
    return result(losses.mean(), chosen, rejected, batch, chosen_rewards.mean().item(),
                  rejected_rewards.mean().item(), "trl.experimental.cpo.CPOTrainer.cpo_loss")


def cdpo_formula(settings, pairs):
    """cDPO (sigmoid with label smoothing), which TRL 1.16 no longer applies: the formula in torch."""
    batch = len(pairs)
    chosen, rejected = leaves(pairs)
    ref_c = torch.tensor([p["reference_chosen"] for p in pairs], dtype=DTYPE)
    ref_r = torch.tensor([p["reference_rejected"] for p in pairs], dtype=DTYPE)
    beta, eps = settings["beta"], settings["label_smoothing"]
    z = beta * ((chosen - ref_c) - (rejected - ref_r))
    loss = (-(1 - eps) * F.logsigmoid(z) - eps * F.logsigmoid(-z)).mean()
    return result(loss, chosen, rejected, batch, (beta * (chosen - ref_c)).mean().item(),
                  (beta * (rejected - ref_r)).mean().item(), "formula (torch): cDPO")


def settings_of(types_, beta, weights=None, label_smoothing=0.0, simpo_gamma=0.5, reference_free=False):
    return {"types": types_, "weights": weights or [1.0] * len(types_), "beta": beta,
            "label_smoothing": label_smoothing, "simpo_gamma": simpo_gamma, "reference_free": reference_free}


def case(name, settings, grid, expect, mean_chosen_tokens=None):
    pairs = pairs_of(grid)
    return {"name": name, "settings": settings, "pairs": pairs, "mean_chosen_tokens": mean_chosen_tokens,
            "expected": expect(settings, pairs)}


def assert_trl_ignores_sigmoid_smoothing():
    pairs = pairs_of(GRID[:2])
    smoothed = trl_dpo(settings_of(["sigmoid"], 0.1, label_smoothing=0.2), pairs)["loss"]
    plain = trl_dpo(settings_of(["sigmoid"], 0.1), pairs)["loss"]
    assert smoothed == plain, "TRL now applies label_smoothing to sigmoid: revisit the cDPO difference"


def build_cases():
    cases = []
    single = ["sigmoid", "robust", "hinge", "ipo", "sigmoid_norm", "sppo_hard", "nca_pair", "bco_pair",
              "apo_zero", "apo_down", "sft"]
    for loss_type in single:
        for beta in BETAS:
            for i, point in enumerate(GRID):
                cases.append(case(f"{loss_type} beta={beta} #{i}", settings_of([loss_type], beta), [point], trl_dpo))
    for beta in BETAS:
        for i, point in enumerate(GRID):
            cases.append(case(f"robust eps=0.1 beta={beta} #{i}",
                              settings_of(["robust"], beta, label_smoothing=0.1), [point], trl_dpo))
            cases.append(case(f"sigmoid cDPO eps=0.2 beta={beta} #{i}",
                              settings_of(["sigmoid"], beta, label_smoothing=0.2), [point], cdpo_formula))
            for gamma, eps in [(0.5, 0.0), (1.4, 0.15)]:
                cases.append(case(f"simpo gamma={gamma} eps={eps} beta={beta} #{i}",
                                  settings_of(["simpo"], beta, label_smoothing=eps, simpo_gamma=gamma),
                                  [point], trl_simpo))
            cases.append(case(f"sigmoid reference_free beta={beta} #{i}",
                              settings_of(["sigmoid"], beta, reference_free=True), [point], trl_dpo))
    # A batch: sft is TRL's token-level mean over the batch's chosen tokens.
    batch = GRID[:6]
    mean_chosen = sum(p[4] for p in batch) / len(batch)
    cases.append(case("sft batch token mean", settings_of(["sft"], 0.1), batch, trl_dpo, mean_chosen))
    # Weighted combinations (MPO-style and RPO-style), as TRL's loss_type list + loss_weights.
    combos = [
        (["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0]),
        (["sigmoid", "sft"], [1.0, 0.5]),
        (["ipo", "hinge", "apo_zero", "nca_pair"], [0.3, 1.5, 2.0, -0.25]),
        (["robust", "sppo_hard", "apo_down", "sigmoid_norm"], [1.0, 0.01, 0.7, 1.2]),
    ]
    for types_, weights in combos:
        for beta in BETAS:
            cases.append(case(f"{'+'.join(types_)} beta={beta}", settings_of(types_, beta, weights=weights),
                              batch, trl_dpo, mean_chosen))
    return cases


def main():
    torch.set_default_dtype(DTYPE)
    assert_trl_ignores_sigmoid_smoothing()
    fixture = {"generator": "scripts/make_loss_fixtures.py", "trl_version": trl.__version__,
               "torch_version": torch.__version__, "cases": build_cases()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {len(fixture['cases'])} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
