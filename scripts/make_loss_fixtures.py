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
import ast
import math
import collections
import contextlib
import json
import os
import subprocess
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

# ORPO's reference implementation: LLaMA-Factory's source at this commit (github hiyouga/LLaMA-Factory), read from a
# bare clone given by LLAMAFACTORY_GIT (default: where the lead's `fetch` of the repository put it).
LLAMAFACTORY_GIT = os.environ.get("LLAMAFACTORY_GIT", "/work/.mirror/hiyouga+LLaMA-Factory/repo")
LLAMAFACTORY_COMMIT = "ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30"
LLAMAFACTORY_FILE = "src/llamafactory/train/dpo/trainer.py"

# Per-token pairs (policy, reference, and log Σ_v p_v² for WPO, at each completion token): unequal lengths (so ld_alpha
# has a tail on one side), equal lengths, a one-token completion, tied tokens, and large per-token margins.
TOKEN_PAIRS = [
    {"policy_chosen": [-1.5, -0.25, -3.0, -0.75], "policy_rejected": [-2.0, -1.0, -0.5, -4.0, -2.5, -1.25, -0.125],
     "reference_chosen": [-1.25, -0.5, -2.5, -1.0], "reference_rejected": [-1.75, -1.5, -0.75, -3.0, -2.0, -1.0, -0.5],
     "log_sum_sq_chosen": [-0.75, -0.5, -1.5, -0.625], "log_sum_sq_rejected": [-1.0, -0.75, -0.5, -2.0, -1.5, -1.0, -0.25]},
    {"policy_chosen": [-0.5, -6.0, -2.0, -1.0, -0.375, -9.0], "policy_rejected": [-3.0, -0.25],
     "reference_chosen": [-0.75, -5.0, -2.25, -1.5, -0.5, -7.0], "reference_rejected": [-2.0, -0.5],
     "log_sum_sq_chosen": [-0.25, -3.0, -1.0, -0.5, -0.25, -4.0], "log_sum_sq_rejected": [-1.5, -0.125]},
    {"policy_chosen": [-2.0, -2.0, -2.0], "policy_rejected": [-2.0, -2.0, -2.0],
     "reference_chosen": [-2.0, -2.0, -2.0], "reference_rejected": [-2.0, -2.0, -2.0],
     "log_sum_sq_chosen": [-1.0, -1.0, -1.0], "log_sum_sq_rejected": [-1.0, -1.0, -1.0]},
    {"policy_chosen": [-0.0625], "policy_rejected": [-70.0, -1.0, -3.0],
     "reference_chosen": [-1.0], "reference_rejected": [-5.0, -0.5, -1.0],
     "log_sum_sq_chosen": [-0.03125], "log_sum_sq_rejected": [-6.0, -0.5, -1.5]},
    {"policy_chosen": [-45.0, -0.5], "policy_rejected": [-0.25, -60.0],
     "reference_chosen": [-2.0, -1.0], "reference_rejected": [-3.0, -1.5],
     "log_sum_sq_chosen": [-3.0, -0.25], "log_sum_sq_rejected": [-0.125, -5.0]},
]


def token_pairs(indices):
    """Fixture pairs from TOKEN_PAIRS: per-token log-probs, with the sums and counts they imply."""
    pairs = []
    for i in indices:
        t = TOKEN_PAIRS[i]
        pairs.append({"policy_chosen": sum(t["policy_chosen"]), "policy_rejected": sum(t["policy_rejected"]),
                      "reference_chosen": sum(t["reference_chosen"]),
                      "reference_rejected": sum(t["reference_rejected"]),
                      "chosen_tokens": len(t["policy_chosen"]), "rejected_tokens": len(t["policy_rejected"]),
                      "tokens": t})
    return pairs

# Batches for AOT, whose loss sorts over the batch: distinct values, ties in the policy log-ratio π(y+)/π(y-)
# (pairs 0 and 1: -3 and -3), ties in the chosen log-ratios (pairs 2 and 3), and one extreme margin.
AOT_BATCHES = [
    GRID[:6],
    [(-10.0, -7.0, -11.0, -9.0, 5, 4), (-20.0, -17.0, -19.5, -18.0, 9, 8), (-6.0, -9.0, -7.0, -8.0, 3, 6),
     (-9.0, -4.0, -10.0, -6.5, 7, 3), (-2.5, -30.0, -3.0, -25.0, 2, 14)],
    GRID[4:9],
]


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


def trl_stub(settings, metrics):
    """A stand-in `self` for DPOTrainer's methods, carrying `settings` under TRL's names."""
    accelerator = types.SimpleNamespace(device=torch.device("cpu"), gather=lambda x: x,
                                        gather_for_metrics=lambda x: x, autocast=contextlib.nullcontext)
    return types.SimpleNamespace(
        model=types.SimpleNamespace(training=True, is_gradient_checkpointing=False), accelerator=accelerator, aux_loss_enabled=False,
        ld_alpha=settings["ld_alpha"], precompute_ref_logps=True, f_divergence_type=settings["f_divergence_type"],
        f_alpha_divergence_coef=settings["f_alpha_divergence_coef"], loss_types=settings["types"],
        loss_weights=settings["weights"], beta=settings["beta"], label_smoothing=settings["label_smoothing"],
        use_weighting=settings["use_weighting"], _metrics={"train": metrics}, _total_train_tokens=0, _tp_size=1,
        ref_model="the reference (compute_ref_log_probs is handed its stand-in)", args=types.SimpleNamespace(discopop_tau=settings["discopop_tau"],
                                                   gradient_checkpointing_kwargs=None))


def padded(rows, length, dtype):
    """Rows of per-token values placed after one prompt token, zero-padded to `length` (TRL's shifted layout)."""
    return torch.stack([torch.cat([row, torch.zeros(length - 1 - len(row), dtype=dtype)]) for row in rows])


def trl_dpo(settings, pairs):
    """Batch-mean loss, per-pair (or per-token) gradients and batch-mean rewards from DPOTrainer._compute_loss.

    Pairs with summed log-probs only: the stub model returns logp/n on each of the n completion positions, so TRL sums
    them back. Pairs with a "tokens" entry: the stub returns those per-token log-probs (and log Σp² for WPO) and the
    reference sums come from TRL's own `compute_ref_log_probs` on the per-token reference log-probs (so ld_alpha
    weights them as TRL's precompute does); gradients are then per token."""
    dtype = torch.float32 if settings.get("float32") else DTYPE
    batch = len(pairs)
    token_level = "tokens" in pairs[0]
    if token_level:
        leaves_c = [torch.tensor(p["tokens"]["policy_chosen"], dtype=dtype, requires_grad=True) for p in pairs]
        leaves_r = [torch.tensor(p["tokens"]["policy_rejected"], dtype=dtype, requires_grad=True) for p in pairs]
        counts = [len(x) for x in leaves_c] + [len(x) for x in leaves_r]
        policy_rows = leaves_c + leaves_r
        ref_rows = [torch.tensor(p["tokens"]["reference_chosen"], dtype=dtype) for p in pairs] \
            + [torch.tensor(p["tokens"]["reference_rejected"], dtype=dtype) for p in pairs]
        sq_rows = [torch.tensor(p["tokens"].get("log_sum_sq_chosen", [0.0] * len(p["tokens"]["policy_chosen"])),
                                dtype=dtype) for p in pairs] \
            + [torch.tensor(p["tokens"].get("log_sum_sq_rejected", [0.0] * len(p["tokens"]["policy_rejected"])),
                            dtype=dtype) for p in pairs]
    else:
        chosen = torch.tensor([p["policy_chosen"] for p in pairs], dtype=dtype, requires_grad=True)
        rejected = torch.tensor([p["policy_rejected"] for p in pairs], dtype=dtype, requires_grad=True)
        counts = [p["chosen_tokens"] for p in pairs] + [p["rejected_tokens"] for p in pairs]
        summed = torch.cat([chosen, rejected])
        policy_rows = [summed[i] / counts[i] * torch.ones(counts[i], dtype=dtype) for i in range(2 * batch)]
        ref_rows = sq_rows = None
    length = 1 + max(counts)  # one prompt token, then the completion, then padding
    completion_mask = torch.zeros(2 * batch, length, dtype=torch.long)
    for row, n in enumerate(counts):
        completion_mask[row, 1:1 + n] = 1
    per_token = padded(policy_rows, length, dtype)

    def model_returning(log_probs, log_sum_sq):
        def model(**_):
            zeros = torch.zeros_like(log_probs)
            return types.SimpleNamespace(log_probs=log_probs, entropy=zeros, mean_logits=zeros,
                                         is_top1=zeros.bool(), log_sum_sq_probs=log_sum_sq)
        return model

    metrics = collections.defaultdict(list)
    stub = trl_stub(settings, metrics)
    inputs = {"input_ids": torch.zeros(2 * batch, length, dtype=torch.long),
              "attention_mask": torch.ones(2 * batch, length, dtype=torch.long),
              "completion_mask": completion_mask}
    ref_zero = settings["reference_free"] or not any(t not in ("sft", "simpo") for t in settings["types"])
    if token_level:
        ref_model = model_returning(padded(ref_rows, length, dtype), None)
        ref_c, ref_r = DPOTrainer.compute_ref_log_probs(stub, ref_model, inputs)
        if ref_zero:
            ref_c, ref_r = torch.zeros_like(ref_c), torch.zeros_like(ref_r)
        policy = model_returning(per_token, padded(sq_rows, length, dtype))
    else:
        reference = lambda key: torch.tensor([0.0 if ref_zero else p[key] for p in pairs], dtype=dtype)
        ref_c, ref_r = reference("reference_chosen"), reference("reference_rejected")
        policy = model_returning(per_token, None)
    inputs["ref_chosen_logps"], inputs["ref_rejected_logps"] = ref_c, ref_r
    loss = DPOTrainer._compute_loss(stub, policy, inputs, return_outputs=False)
    loss.backward()
    expected = {"source": "trl.DPOTrainer._compute_loss" + (" (float32)" if dtype == torch.float32 else ""),
                "loss": loss.item(), "chosen_reward": metrics["rewards/chosen"][-1],
                "rejected_reward": metrics["rewards/rejected"][-1]}
    if token_level:
        expected["d_policy_chosen_tokens"] = [(x.grad * batch).tolist() for x in leaves_c]
        expected["d_policy_rejected_tokens"] = [(x.grad * batch).tolist() for x in leaves_r]
    else:
        expected["d_policy_chosen"] = (chosen.grad * batch).tolist()
        expected["d_policy_rejected"] = (rejected.grad * batch).tolist()
    return expected


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


def settings_of(types_, beta, weights=None, label_smoothing=0.0, simpo_gamma=0.5, reference_free=False,
                discopop_tau=0.05, f_divergence_type="reverse_kl", f_alpha_divergence_coef=0.5, ld_alpha=None,
                use_weighting=False):
    return {"types": types_, "weights": weights or [1.0] * len(types_), "beta": beta,
            "label_smoothing": label_smoothing, "simpo_gamma": simpo_gamma, "reference_free": reference_free,
            "discopop_tau": discopop_tau, "f_divergence_type": f_divergence_type,
            "f_alpha_divergence_coef": f_alpha_divergence_coef, "ld_alpha": ld_alpha, "use_weighting": use_weighting}


def token_pair_formula(settings, pairs):
    """token_pair (the seed's token-level loss, in no library): plain torch from the formula
    loss = mean over pairs of mean over t < min(n+, n-) of -logsigmoid(beta * x_t),
    x_t = (logpi(c_t) - logpi(r_t)) - (logpi_ref(c_t) - logpi_ref(r_t)); rewards as DPO's from the sums."""
    batch = len(pairs)
    beta = settings["beta"]
    leaves_c = [torch.tensor(p["tokens"]["policy_chosen"], dtype=DTYPE, requires_grad=True) for p in pairs]
    leaves_r = [torch.tensor(p["tokens"]["policy_rejected"], dtype=DTYPE, requires_grad=True) for p in pairs]
    ref = lambda p, key: torch.tensor(p["tokens"][key], dtype=DTYPE) * (0.0 if settings["reference_free"] else 1.0)
    per_pair = []
    chosen_rewards, rejected_rewards = [], []
    for p, c, r in zip(pairs, leaves_c, leaves_r):
        rc, rr = ref(p, "reference_chosen"), ref(p, "reference_rejected")
        t = min(len(c), len(r))
        x = (c[:t] - r[:t]) - (rc[:t] - rr[:t])
        per_pair.append(-F.logsigmoid(beta * x).mean())
        chosen_rewards.append(beta * (c.sum() - rc.sum()).item())
        rejected_rewards.append(beta * (r.sum() - rr.sum()).item())
    loss = torch.stack(per_pair).mean()
    loss.backward()
    return {"source": "formula (torch): token_pair", "loss": loss.item(),
            "chosen_reward": sum(chosen_rewards) / batch, "rejected_reward": sum(rejected_rewards) / batch,
            "d_policy_chosen_tokens": [(x.grad * batch).tolist() for x in leaves_c],
            "d_policy_rejected_tokens": [(x.grad * batch).tolist() for x in leaves_r]}


def llamafactory_orpo(settings, pairs):
    """ORPO from LLaMA-Factory's own `CustomDPOTrainer.odds_ratio_loss` (see LLAMAFACTORY_SOURCE), fed the mean
    per-token log-probs that its `concatenated_forward` makes for orpo (all_logps / valid_length); rewards are
    beta * those means, as its `compute_preference_loss` logs them without a reference model."""
    batch = len(pairs)
    chosen, rejected = leaves(pairs)
    chosen_mean = chosen / torch.tensor([p["chosen_tokens"] for p in pairs], dtype=DTYPE)
    rejected_mean = rejected / torch.tensor([p["rejected_tokens"] for p in pairs], dtype=DTYPE)
    stub = types.SimpleNamespace(beta=settings["beta"])
    losses = llamafactory_odds_ratio_loss()(stub, chosen_mean, rejected_mean)
    return result(losses.mean(), chosen, rejected, batch, (settings["beta"] * chosen_mean).mean().item(),
                  (settings["beta"] * rejected_mean).mean().item(),
                  f"LLaMA-Factory {LLAMAFACTORY_FILE}@{LLAMAFACTORY_COMMIT} odds_ratio_loss")


def llamafactory_odds_ratio_loss():
    """The `odds_ratio_loss` method, compiled from LLaMA-Factory's source file as it is (importing the package would
    pull in its whole dependency tree); the commit is checked so the fixture names exactly what ran."""
    commit = subprocess.run(["git", "--git-dir", LLAMAFACTORY_GIT, "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    assert commit == LLAMAFACTORY_COMMIT, f"LLaMA-Factory checkout is at {commit}, expected {LLAMAFACTORY_COMMIT}"
    source = subprocess.run(["git", "--git-dir", LLAMAFACTORY_GIT, "show", f"{commit}:{LLAMAFACTORY_FILE}"],
                            check=True, capture_output=True, text=True).stdout
    tree = ast.parse(source)
    trainer = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CustomDPOTrainer")
    method = next(n for n in trainer.body if isinstance(n, ast.FunctionDef) and n.name == "odds_ratio_loss")
    namespace = {"torch": torch, "F": F}
    exec(compile(ast.Module(body=[method], type_ignores=[]), LLAMAFACTORY_FILE, "exec"), namespace)
    return namespace["odds_ratio_loss"]


def case(name, settings, grid, expect, mean_chosen_tokens=None):
    pairs = pairs_of(grid) if isinstance(grid[0], tuple) else grid
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
    cases += new_objective_cases()
    return cases


def new_objective_cases():
    """exo_pair, discopop, aot, aot_unpaired, the f-divergences, ld_alpha, use_weighting, orpo and token_pair."""
    cases = []
    for beta in BETAS:
        for i, point in enumerate(GRID):
            for eps in [1e-3, 0.2]:
                cases.append(case(f"exo_pair eps={eps} beta={beta} #{i}",
                                  settings_of(["exo_pair"], beta, label_smoothing=eps), [point], trl_dpo))
            cases.append(case(f"orpo beta={beta} #{i}", settings_of(["orpo"], beta), [point], llamafactory_orpo))
        # DiscoPOP's exp(-x) overflows in TRL for x = beta*margin below about -700 (inf * 0 = nan there): the
        # grid's extreme negative margins are left out, its extreme positive ones kept.
        for i, point in enumerate(GRID):
            for tau in [0.05, 0.5]:
                settings = settings_of(["discopop"], beta, discopop_tau=tau)
                expected = trl_dpo(settings, pairs_of([point]))
                if math.isfinite(expected["loss"]):
                    cases.append(case(f"discopop tau={tau} beta={beta} #{i}", settings, [point], trl_dpo))
        for b, grid in enumerate(AOT_BATCHES):
            for loss_type in ["aot", "aot_unpaired"]:
                for eps in [0.0, 0.1]:
                    cases.append(case(f"{loss_type} eps={eps} beta={beta} batch {b}",
                                      settings_of([loss_type], beta, label_smoothing=eps), grid, trl_dpo))
        # f-divergences on every loss TRL allows them with; alpha_divergence only runs in float32 in TRL (its clamp
        # table has no float64 entry), so those cases are float32 throughout.
        moderate = GRID[:6]
        for divergence, coef in [("forward_kl", 0.5), ("js_divergence", 0.5), ("alpha_divergence", 0.5),
                                 ("alpha_divergence", 1.5), ("alpha_divergence", 1.0)]:
            for loss_type, eps in [("sigmoid", 0.0), ("hinge", 0.0), ("ipo", 0.0), ("exo_pair", 1e-3),
                                   ("robust", 0.1), ("discopop", 0.0), ("sigmoid_norm", 0.0)]:
                settings = settings_of([loss_type], beta, label_smoothing=eps, f_divergence_type=divergence,
                                       f_alpha_divergence_coef=coef)
                if divergence == "alpha_divergence":
                    settings["float32"] = True
                for i, point in enumerate(moderate):
                    cases.append(case(f"{loss_type} {divergence} coef={coef} beta={beta} #{i}", settings,
                                      [point], trl_dpo))
        all_tokens = token_pairs(range(len(TOKEN_PAIRS)))
        for alpha in [0.0, 0.5, 1.0]:
            for loss_type in ["sigmoid", "ipo"]:
                cases.append(case(f"{loss_type} ld_alpha={alpha} beta={beta}",
                                  settings_of([loss_type], beta, ld_alpha=alpha), all_tokens, trl_dpo))
        # hinge is left out: TRL 1.16's in-place `per_sequence_loss *= weights` on relu's output breaks its autograd.
        for types_ in [["sigmoid"], ["ipo"], ["exo_pair"], ["sigmoid", "bco_pair"]]:
            cases.append(case(f"{'+'.join(types_)} use_weighting beta={beta}",
                              settings_of(types_, beta, use_weighting=True,
                                          label_smoothing=1e-3 if "exo_pair" in types_ else 0.0),
                              all_tokens, trl_dpo))
        cases.append(case(f"sigmoid use_weighting ld_alpha=0.5 beta={beta}",
                          settings_of(["sigmoid"], beta, use_weighting=True, ld_alpha=0.5), all_tokens, trl_dpo))
        cases.append(case(f"token_pair beta={beta}", settings_of(["token_pair"], beta), all_tokens,
                          token_pair_formula))
        cases.append(case(f"token_pair reference_free beta={beta}", settings_of(["token_pair"], beta,
                                                                                reference_free=True),
                          all_tokens, token_pair_formula))
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
