#!/usr/bin/env python3
"""Generate the ORPO trainer trajectory with LLaMA-Factory's own `CustomDPOTrainer` (`pref_loss: orpo`).

Writes, per run (RUNS), Tests/TrainerTests/Fixtures/llamafactory/<run>/:

    expected_metrics.jsonl  one JSON object per optimiser step: the entries of trainer.state.log_history (what
                            LLaMA-Factory logs), plus "summed_logps/chosen", "summed_logps/rejected" and
                            "grad_norm_float64" (see below)
    config.yaml             the run under dpo-ddp's option names (paths relative to this file)
    run_info.json           versions, LLaMA-Factory commit and file blobs, optimiser, per-pair token counts, clipping

It trains on the model and data of the TRL trainer fixtures (Tests/TrainerTests/Fixtures/trl: the tiny GPT-2 in
model/, the 16 pairs of pairs.jsonl as TRL 1.16 tokenizes them in tokenized.json, which is how dpo-ddp tokenizes
pairs.jsonl), 8 full-batch steps, the same AdamW settings, constant LR, clipping, seed and float32 as those runs;
one run with LLaMA-Factory's default pref_beta 0.1 and one with 1.0 (RUNS).

WHAT IS LLAMA-FACTORY'S CODE AND WHAT IS NOT
--------------------------------------------
LLaMA-Factory's, unmodified, loaded from its source at LLAMAFACTORY_COMMIT (the commit the per-batch ORPO cases of
scripts/make_loss_fixtures.py come from; the blobs of the files below are checked):
  - src/llamafactory/train/dpo/trainer.py  `CustomDPOTrainer`: __init__ (dropout off, beta = pref_beta,
    loss_type = pref_loss), `concatenated_forward` (summed log-probs from `get_batch_logps`, divided by the number of
    completion tokens for orpo), `compute_preference_loss` -> `odds_ratio_loss` (no reference model for orpo),
    `get_batch_loss_metrics` (every logged metric), `log` (averaging the stored metrics), `create_optimizer`,
    `create_scheduler`, `_get_train_sampler`.
  - src/llamafactory/train/trainer_utils.py  `get_batch_logps`, `create_custom_optimizer` (None here: plain AdamW).
  - src/llamafactory/data/collator.py  `PairwiseDataCollatorWithPadding` (rows [chosen..., rejected...], right
    padding to a multiple of 8 as LLaMA-Factory's DPO workflow sets it, labels -100 on prompt and padding).
  - src/llamafactory/hparams/finetuning_args.py  `FinetuningArguments(stage="dpo", pref_loss="orpo", pref_beta=0.1)`
    (its __post_init__ sets use_ref_model = False for orpo).
  The training loop is transformers' `Trainer.train` (4.57.1, called by CustomDPOTrainer) and trl 0.24's
  `DPOTrainer.compute_loss` / `store_metrics` (CustomDPOTrainer's base class), i.e. the versions LLaMA-Factory pins
  (transformers <= 5.8, trl <= 0.24, accelerate <= 1.11, datasets <= 4.0, peft <= 0.18.1).

Not LLaMA-Factory's (the parts of its `run_dpo` workflow that would make a different run, replaced by the inputs of
the TRL fixtures so that dpo-ddp's run is the same):
  - Data: LLaMA-Factory would tokenize through a chat template (prompt and answer encoded separately); the features
    here are built from tokenized.json: chosen_input_ids = prompt_ids + chosen_ids, chosen_labels = -100 on the
    prompt then chosen_ids, attention mask all 1 (rejected likewise). LLaMA-Factory's collator pads them.
  - Model: loaded with GPT2LMHeadModel.from_pretrained in float32 (LLaMA-Factory's `load_model` adds patches that
    do nothing for a float32 GPT-2 on CPU; bypassed to keep the weights exactly the TRL fixtures').
  - Sampler: `disable_shuffling=True` (LLaMA-Factory's option; one full batch per step, so order only moves rounding).
  - torchaudio is replaced by an empty module: data/mm_plugin.py imports it at import time, for audio inputs only.
  - "summed_logps/*": LLaMA-Factory logs `logps/*` for orpo as the mean over pairs of the PER-TOKEN MEAN log-prob
    (the value `concatenated_forward` returns after dividing by valid_length). dpo-ddp's `logps/*` are means over
    pairs of the SUMMED completion log-prob, as TRL logs them. So the script wraps LLaMA-Factory's
    `get_batch_logps` (called once per step, by the policy's forward: orpo has no reference pass) to record the sums
    and token counts it returns, and writes their means over pairs as summed_logps/chosen and summed_logps/rejected.
  - "grad_norm_float64": the logged grad_norm is torch's float32 `clip_grad_norm_` (via accelerate), whose
    reduction over the 1.6M entries of the tied embedding's gradient is off by ~2.4e-4 relative for that tensor and
    ~1.2e-4 for the total here (measured: float32 0.98706 vs float64 0.98730 for wte at step 1, the same with
    foreach on or off). The script wraps the Trainer's `accelerator.clip_grad_norm_` to record the float64 norm of the
    very gradients it clips (then calls it unchanged), which is what dpo-ddp's float64 norm is compared with.

METRICS (LLaMA-Factory's get_batch_loss_metrics for orpo, beta = pref_beta; a = summed log-prob / completion tokens)
    loss                 mean over pairs of  -a+ + beta * (-logsigmoid(a+ - a- - log1p(-e^a+) + log1p(-e^a-)))
                         (pref_ftx 0: no extra SFT term). transformers 4.57 rounds the logged loss to 4 decimals.
    rewards/chosen       mean over pairs of beta * a+       rewards/rejected  mean of beta * a-
    rewards/margins      mean of beta * (a+ - a-)           rewards/accuracies  mean of [beta*a+ > beta*a-]
    logps/chosen         mean over pairs of a+ (per-token mean; = rewards/chosen / beta)   logps/rejected likewise
    logits/chosen        mean of the chosen rows' logits over EVERY position (prompt and padding too) and the whole
                         vocabulary: not dpo-ddp's logits/* (completion positions only, as TRL), so not compared
    sft_loss             mean of -a+            odds_ratio_loss  mean of -logsigmoid(L)   (dpo-ddp logs neither)
    grad_norm            total L2 norm of all gradients before clipping (accelerate's clip_grad_norm_, float32)
Metrics describe the forward pass before the step's update (step 1 = the initial model).

Run (a few minutes; one thread, deterministic: the script trains the first run twice and compares every number):

    python3 -m venv --system-site-packages /work/venv-lf
    /work/venv-lf/bin/pip install trl==0.24.0 transformers==4.57.1 accelerate==1.11.0 datasets==4.0.0 \\
        peft==0.18.1 omegaconf "tyro<0.9.0" fire einops
    /work/venv-lf/bin/python scripts/make_llamafactory_orpo_fixtures.py [--git PATH/TO/LLaMA-Factory.git]
"""
import argparse
import hashlib
import importlib.machinery
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import types
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
    os.environ.pop(var, None)
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["HF_HUB_OFFLINE"] = "1"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TrainerTests", "Fixtures")
TRL = os.path.join(FIXTURES, "trl")
OUT = os.path.join(FIXTURES, "llamafactory")
TOKENIZER = os.path.join(ROOT, "Sources", "Tokenizer", "Resources", "gpt2")

LLAMAFACTORY_GIT = "/work/.mirror/hiyouga+LLaMA-Factory/repo"
LLAMAFACTORY_COMMIT = "ff6d4d12eeb035d6ce06805a5733dd7b29f2ac30"
# git blobs of the files whose code runs (checked, so another version is noticed rather than silently used)
EXPECTED_BLOBS = {
    "src/llamafactory/train/dpo/trainer.py": "5b800a72b75c9e1f047733aa9b5f9902fd86e477",
    "src/llamafactory/train/trainer_utils.py": "a0e898e399e7d77d4dbe66f4327e9e04c390f4c2",
    "src/llamafactory/data/collator.py": "97b37a9c2aef59d99e5450bb712b4ab149a3f6ad",
    "src/llamafactory/hparams/finetuning_args.py": "f4bd4debdcccb814b07dc8cd5a9202bceedec165",
}
VERSIONS = {"transformers": "4.57.1", "trl": "0.24.0", "accelerate": "1.11.0"}

SEED = 42
MAX_STEPS = 8
LEARNING_RATE = 1e-3
MAX_LENGTH = 128
WEIGHT_DECAY = 0.0
ADAM = {"adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8}
# pref_beta and max_grad_norm per run. "orpo": LLaMA-Factory's default pref_beta 0.1, where the odds-ratio term is
# ~0.07 of a loss of ~11 (the chosen NLL dominates); max_grad_norm from a trial run (unclipped norms 1.10-1.39) so
# that clipping is active on the first steps and not on the later ones. "orpo_beta1": pref_beta 1.0, so the odds-ratio
# term and its weight move the trajectory ten times more (norms 1.22-1.49: clipped at every step).
RUNS = {
    "orpo": {"beta": 0.1, "max_grad_norm": 1.2},
    "orpo_beta1": {"beta": 1.0, "max_grad_norm": 1.2},
}


def git_blob(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def extract_source(git_dir, into):
    """LLaMA-Factory's src/ at LLAMAFACTORY_COMMIT (git archive of the clone), blob-checked; returns its path."""
    archive = subprocess.run(["git", "--git-dir", git_dir, "archive", LLAMAFACTORY_COMMIT, "src"], check=True,
                             capture_output=True).stdout
    path = os.path.join(into, "src.tar")
    with open(path, "wb") as f:
        f.write(archive)
    with tarfile.open(path) as tar:
        tar.extractall(into, filter="data")
    for relative, expected in EXPECTED_BLOBS.items():
        with open(os.path.join(into, relative), "rb") as f:
            blob = git_blob(f.read())
        assert blob == expected, f"{relative}: git blob {blob}, expected {expected} (commit {LLAMAFACTORY_COMMIT})"
    return os.path.join(into, "src")


def import_llamafactory(src):
    torchaudio = types.ModuleType("torchaudio")
    torchaudio.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    sys.modules.setdefault("torchaudio", torchaudio)
    sys.path.insert(0, src)
    import llamafactory.train.dpo.trainer as dpo_trainer
    from llamafactory.data import PairwiseDataCollatorWithPadding, get_template_and_fix_tokenizer
    from llamafactory.extras.constants import IGNORE_INDEX
    from llamafactory.hparams import DataArguments, FinetuningArguments

    assert dpo_trainer.__file__.startswith(src), dpo_trainer.__file__
    return types.SimpleNamespace(module=dpo_trainer, Collator=PairwiseDataCollatorWithPadding,
                                 template=get_template_and_fix_tokenizer, IGNORE_INDEX=IGNORE_INDEX,
                                 DataArguments=DataArguments, FinetuningArguments=FinetuningArguments)


def features(tokenized, ignore_index):
    rows = []
    for pair in tokenized["pairs"]:
        row = {"images": None, "videos": None, "audios": None}
        for side in ("chosen", "rejected"):
            ids = pair["prompt_ids"] + pair[f"{side}_ids"]
            assert len(ids) <= MAX_LENGTH
            row[f"{side}_input_ids"] = ids
            row[f"{side}_attention_mask"] = [1] * len(ids)
            row[f"{side}_labels"] = [ignore_index] * len(pair["prompt_ids"]) + pair[f"{side}_ids"]
        rows.append(row)
    return rows


def train(lf, tok, rows, out_dir, beta, max_grad_norm):
    """One CustomDPOTrainer run from the TRL fixtures' initial model; returns (log entries with the recorded sums
    added, trainer, per-pair completion token counts)."""
    import datasets
    import torch
    import transformers

    model = transformers.GPT2LMHeadModel.from_pretrained(os.path.join(TRL, "model"), torch_dtype=torch.float32)
    finetuning = lf.FinetuningArguments(stage="dpo", finetuning_type="full", pref_loss="orpo", pref_beta=beta,
                                        disable_shuffling=True)
    assert not finetuning.use_ref_model and finetuning.pref_ftx == 0 and finetuning.ld_alpha is None
    template = lf.template(tok, lf.DataArguments(template="empty"))
    collator = lf.Collator(template=template, model=model, pad_to_multiple_of=8, label_pad_token_id=lf.IGNORE_INDEX,
                           tokenizer=tok, processor=None)
    args = transformers.Seq2SeqTrainingArguments(
        output_dir=out_dir, per_device_train_batch_size=len(rows), gradient_accumulation_steps=1, max_steps=MAX_STEPS,
        learning_rate=LEARNING_RATE, lr_scheduler_type="constant", warmup_steps=0, weight_decay=WEIGHT_DECAY,
        max_grad_norm=max_grad_norm, seed=SEED, data_seed=SEED, logging_strategy="steps", logging_steps=1,
        save_strategy="no", eval_strategy="no", report_to=[], use_cpu=True, bf16=False, fp16=False,
        remove_unused_columns=False, dataloader_num_workers=0, disable_tqdm=True, **ADAM)

    sums = []  # (summed log-probs, completion token counts) per get_batch_logps call
    norms = []  # float64 norm of the gradients the Trainer clips, per step
    original = lf.module.get_batch_logps

    def recording_get_batch_logps(*a, **k):
        logps, valid_length = original(*a, **k)
        sums.append((logps.detach().double().clone(), valid_length.clone()))
        return logps, valid_length

    lf.module.get_batch_logps = recording_get_batch_logps
    try:
        trainer = lf.module.CustomDPOTrainer(model=model, ref_model=None, finetuning_args=finetuning, processor=None,
                                             args=args, data_collator=collator,
                                             train_dataset=datasets.Dataset.from_list(rows), tokenizer=tok)
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        clip = trainer.accelerator.clip_grad_norm_

        def recording_clip_grad_norm_(parameters, *a, **k):
            parameters = list(parameters)
            norms.append(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in parameters if p.grad is not None)).item())
            return clip(parameters, *a, **k)

        trainer.accelerator.clip_grad_norm_ = recording_clip_grad_norm_
        trainer.train()
    finally:
        lf.module.get_batch_logps = original
    steps = [e for e in trainer.state.log_history if "loss" in e and "train_runtime" not in e]
    assert [e["step"] for e in steps] == list(range(1, MAX_STEPS + 1)), steps
    assert len(sums) == MAX_STEPS, f"get_batch_logps ran {len(sums)} times in {MAX_STEPS} steps"
    assert len(norms) == MAX_STEPS, f"clip_grad_norm_ ran {len(norms)} times in {MAX_STEPS} steps"
    batch = len(rows)
    for entry, (logps, valid), norm in zip(steps, sums, norms):
        entry["grad_norm_float64"] = norm
        # torch's float32 norm (what is logged, and what clipping divides by) is off by ~1e-4 on this gradient.
        assert abs(entry["grad_norm"] - norm) <= 1e-3 * norm, (entry["grad_norm"], norm)
        entry["summed_logps/chosen"] = logps[:batch].mean().item()
        entry["summed_logps/rejected"] = logps[batch:].mean().item()
        # The recorded sums are the ones LLaMA-Factory logged (divided by the token counts): same forward pass.
        per_token = (logps / valid.double())
        assert abs(per_token[:batch].mean().item() - entry["logps/chosen"]) <= 1e-5 * abs(entry["logps/chosen"])
        assert abs(per_token[batch:].mean().item() - entry["logps/rejected"]) <= 1e-5 * abs(entry["logps/rejected"])
    return steps, trainer, sums[0][1].tolist()


def write_config(path, beta, max_grad_norm):
    keys = [
        ("model", "../../trl/model"), ("data", "../../trl/pairs.jsonl"), ("loss", "orpo"), ("beta", beta),
        ("learning_rate", LEARNING_RATE), ("lr_scheduler", "constant"), ("warmup_steps", 0), ("batch_size", 16),
        ("micro_batch_size", 16), ("max_steps", MAX_STEPS), ("max_grad_norm", max_grad_norm),
        ("weight_decay", WEIGHT_DECAY), ("adam_beta1", ADAM["adam_beta1"]), ("adam_beta2", ADAM["adam_beta2"]),
        ("adam_epsilon", ADAM["adam_epsilon"]), ("max_length", MAX_LENGTH), ("truncation_mode", "keep_start"),
        ("seed", SEED), ("logging_steps", 1),
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("# LLaMA-Factory CustomDPOTrainer (pref_loss: orpo) parity run, made by "
                "scripts/make_llamafactory_orpo_fixtures.py.\n")
        f.write("# Paths are relative to this file (as dpo-ddp reads them). LLaMA-Factory-only settings are in "
                "run_info.json.\n")
        for k, v in keys:
            f.write(f"{k}: {v!r}\n" if isinstance(v, float) else f"{k}: {v}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--git", default=LLAMAFACTORY_GIT, help="a clone of github.com/hiyouga/LLaMA-Factory")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    import torch
    import transformers
    import trl
    import accelerate

    for name, module in (("transformers", transformers), ("trl", trl), ("accelerate", accelerate)):
        assert module.__version__ == VERSIONS[name], f"{name} {module.__version__}, expected {VERSIONS[name]}"
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    with tempfile.TemporaryDirectory() as tmp:
        src = extract_source(args.git, tmp)
        lf = import_llamafactory(src)
        tok = transformers.GPT2TokenizerFast(os.path.join(TOKENIZER, "vocab.json"), os.path.join(TOKENIZER, "merges.txt"))
        tok.pad_token = tok.eos_token
        with open(os.path.join(TRL, "tokenized.json"), encoding="utf-8") as f:
            tokenized = json.load(f)
        rows = features(tokenized, lf.IGNORE_INDEX)
        for number, (name, spec) in enumerate(RUNS.items()):
            steps, trainer, tokens = train(lf, tok, rows, os.path.join(tmp, name), spec["beta"], spec["max_grad_norm"])
            if number == 0:
                again, _, _ = train(lf, tok, rows, os.path.join(tmp, "again"), spec["beta"], spec["max_grad_norm"])
                assert again == steps, "the run is not deterministic"
            write_run(name, spec, steps, trainer, tokens, tokenized, versions={
                "transformers_version": transformers.__version__, "trl_version": trl.__version__,
                "accelerate_version": accelerate.__version__, "torch_version": torch.__version__})
    print("self-checks passed: deterministic re-run, rewards = beta * per-token-mean logps, loss = sft + beta * OR")


def write_run(name, spec, steps, trainer, tokens, tokenized, versions):
    """Checks the metric definitions the docstring states, writes the run's fixture files and prints it."""
    beta, max_grad_norm = spec["beta"], spec["max_grad_norm"]
    opt = trainer.optimizer
    inner = opt.optimizer if hasattr(opt, "optimizer") else opt
    groups = [{"weight_decay": g["weight_decay"], "params": len(g["params"]), "fused": g.get("fused"),
               "betas": list(g["betas"]), "eps": g["eps"], "lr": g["lr"]} for g in inner.param_groups]
    batch = len(tokenized["pairs"])
    for e in steps:
        assert abs(e["rewards/chosen"] - beta * e["logps/chosen"]) <= 1e-6 * abs(e["rewards/chosen"])
        assert abs(e["loss"] - (e["sft_loss"] + beta * e["odds_ratio_loss"])) <= 1e-4, e
        assert abs(e["sft_loss"] + e["logps/chosen"]) <= 1e-5 * abs(e["sft_loss"])
        assert e["learning_rate"] == LEARNING_RATE
    chosen_tokens, rejected_tokens = tokens[:batch], tokens[batch:]
    assert chosen_tokens == [len(p["chosen_ids"]) for p in tokenized["pairs"]]
    assert rejected_tokens == [len(p["rejected_ids"]) for p in tokenized["pairs"]]
    clipped = [e["grad_norm"] > max_grad_norm for e in steps]
    if name == "orpo":
        assert any(clipped) and not all(clipped), [e["grad_norm"] for e in steps]

    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "expected_metrics.jsonl"), "w", encoding="utf-8") as f:
        for e in steps:
            f.write(json.dumps(e) + "\n")
    write_config(os.path.join(out, "config.yaml"), beta, max_grad_norm)
    info = {
        "llamafactory_commit": LLAMAFACTORY_COMMIT, "llamafactory_blobs": EXPECTED_BLOBS, **versions,
        "pref_loss": "orpo", "pref_beta": beta, "pref_ftx": 0.0, "use_ref_model": False,
        "optim": str(trainer.args.optim.value if hasattr(trainer.args.optim, "value") else trainer.args.optim),
        "optimizer_class": type(inner).__name__, "optimizer_param_groups": groups,
        "per_device_train_batch_size": batch, "gradient_accumulation_steps": 1, "world_size": 1,
        "max_grad_norm": max_grad_norm, "clipping_active": clipped, "grad_norms": [e["grad_norm"] for e in steps],
        "chosen_tokens": chosen_tokens, "rejected_tokens": rejected_tokens,
        "logged_loss_rounding": "transformers 4.57 logs round(loss, 4)",
    }
    with open(os.path.join(out, "run_info.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)

    print(f"\n{name}: LLaMA-Factory {LLAMAFACTORY_COMMIT[:10]}, transformers {versions['transformers_version']}, "
          f"trl {versions['trl_version']}, torch {versions['torch_version']}; optim {info['optim']}, pref_beta {beta}")
    print("step  loss      grad_norm   rewards/chosen  rewards/margins  logps/chosen  summed_logps/chosen  acc")
    for e in steps:
        print(f"{e['step']:4d}  {e['loss']:.4f}  {e['grad_norm']:.6f}  {e['rewards/chosen']:+.6f}      "
              f"{e['rewards/margins']:+.6f}        {e['logps/chosen']:.5f}     {e['summed_logps/chosen']:.4f}"
              f"             {e['rewards/accuracies']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
