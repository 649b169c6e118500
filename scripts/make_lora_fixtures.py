#!/usr/bin/env python3
"""Generate the LoRA DPO parity fixtures with TRL's DPOTrainer + a peft LoraConfig (issue 14).

Versions used (the script refuses others): TRL 1.16.0, peft 0.21.2, transformers 5.23.0, torch 2.15.0.
Never run in CI; the fixtures it writes are committed.

    python3 scripts/make_lora_fixtures.py

It reuses the tiny GPT-2 (real 50257-token vocabulary, n_embd 32, 2 layers), the 16 preference pairs, the tokenizer and
the DPOConfig of scripts/make_trl_trainer_fixtures.py (imported, not copied), and the base model that script committed
in Tests/TrainerTests/Fixtures/trl/model. It writes Tests/TrainerTests/Fixtures/lora/:

    starting_adapter/          a LoRA adapter whose B is NOT zero (peft init of A under torch.manual_seed(43), then
                               B = 0.3 * randn from torch.Generator seed 44), written by PeftModel.save_pretrained:
                               adapter_config.json + adapter_model.safetensors (PEFT's key names, float32)
    reference_logps.json       summed completion log-probs per pair under the base model and under base + starting
                               adapter (the two candidate references; they differ, so the continue run tells them apart)
    continue/                  run (a): DPOTrainer(model=PeftModel.from_pretrained(base, starting_adapter,
                               is_trainable=True)); TRL copies the adapter into a frozen "ref" adapter (see below)
    fresh/                     run (b): DPOTrainer(model=base dir, peft_config=LoraConfig(...)); reference = base with
                               the adapter disabled
    <run>/expected_metrics.jsonl   one JSON object per optimiser step: trainer.state.log_history as TRL logs it
    <run>/config.yaml          the run under dpo-ddp's option names (paths relative to the file); the LoRA keys
                               (lora_r, lora_alpha, lora_targets, lora_dropout, adapter) are issue 14's options, which
                               do not exist yet when this script was written
    <run>/run_info.json        TRL/peft-side facts with no dpo-ddp option (versions, trainable parameter names and
                               count, optimiser groups, grad norms and clipping per step)
    <run>/final_adapter/       the trained "default" adapter, PeftModel.save_pretrained(selected_adapters=["default"])
    fresh/initial_adapter/     the fresh adapter as get_peft_model initialised it inside DPOTrainer, saved BEFORE
                               training: A is torch's Kaiming-uniform draw (dpo-ddp cannot reproduce torch's RNG, so its
                               test starts from this A), B is exactly zero

save_pretrained also writes a README.md model card; it is deleted (nothing reads it). adapter_config.json's
base_model_name_or_path is "trl/model", the base model's path relative to Tests/TrainerTests/Fixtures (the script loads
the base under that relative name from that directory, so the file holds no machine-specific path).

Both runs: LoraConfig(r=4, lora_alpha=8 (scaling 2), lora_dropout=0.0, target_modules=["c_attn","c_proj","c_fc"]
(c_proj matches the attention and the MLP projection), fan_in_fan_out=True (GPT-2's Conv1D), bias="none",
task_type="CAUSAL_LM", use_rslora=False), 16 pairs in one full batch, 8 steps, loss sigmoid, beta 0.1, constant LR,
AdamW (torch fused), weight decay 0, clipping at MAX_GRAD_NORM, float32, dropout disabled, live reference (no precompute).

THE REFERENCE WITH PEFT IN TRL 1.16 (trl/trainer/dpo_trainer.py as installed; line numbers of that file)
--------------------------------------------------------------------------------------------------------
A fresh adapter (peft_config given, lines 621-664):
    664            model = get_peft_model(model, peft_config, **get_peft_model_kwargs)
An existing adapter (a PeftModel passed as model, no peft_config, no ref_model), lines 666-694:
    666        elif is_peft_model(model) and ref_model is None:
    667            # If the model is a PEFT model with a pretrained adapter, we need to create a "ref" adapter that is a copy
    668            # of the "default" adapter, so that we can use it as the reference model during DPO training. ...
    689                model.add_adapter("ref", default_config)
    690                for name, param in model.named_parameters():
    691                    if ".default." in name:
    692                        ref_name = name.replace(".default.", ".ref.")
    693                        ref_param = model.get_parameter(ref_name)
    694                        ref_param.data.copy_(param.data)
   (lines 674-688 skip the copy only for peft 0.17-0.19 with LoraConfig.target_parameters, not the case here.)
No separate reference model with PEFT (lines 907-914):
    909            if is_peft_model(self.model) or (args.precompute_ref_log_probs and not self.is_fsdp_enabled):
    910                # If PEFT is used, the reference model is not needed since the adapter can be disabled to revert to the
    911                # initial model. ...
    914                self.ref_model = None
The reference forward in _compute_loss (lines 1328-1336):
    1328                if is_peft_model(self.model) and self.ref_model is None:
    1329                    # When training a PEFT adapter, how we obtain the reference depends on the setup:
    1330                    # - New adapter: disabling adapters yields the base model.
    1331                    # - Re-training an existing adapter: an initial copy is loaded under the name "ref".
    1333                    with use_adapter(
    1334                        ref_model_unwrapped, adapter_name="ref" if "ref" in ref_model_unwrapped.peft_config else None
(the same choice at lines 1252-1256 for precompute_ref_log_probs), and trl/trainer/utils.py lines 1442-1451:
    1442    if adapter_name is None:
    1443        with model.disable_adapter():
    1444            yield
    1445    else:
    1446        previous_adapter = model.active_adapter
    1447        model.set_adapter(adapter_name)
    ...
    1451            model.set_adapter(previous_adapter)
So: fresh adapter -> reference = base model with every adapter disabled; existing adapter -> reference = base + a
frozen copy of the starting adapter (the "ref" adapter is never in the optimiser: it is added after the PeftModel was
loaded trainable and is not requires_grad when Trainer.create_optimizer collects `p.requires_grad` parameters,
transformers/trainer.py lines 1274-1283; this script asserts it and that "ref" is unchanged after training).
Both runs assert that the first logged loss is ln 2 (policy == reference at step 1).

grad_norm with peft: transformers/trainer.py line 2779 `self.accelerator.clip_grad_norm_(model.parameters(), ...)`
-> torch/nn/utils/clip_grad.py line 229 `grads = [p.grad for p in parameters if p.grad is not None]`: frozen base
weights have no .grad, so the norm is over the trainable adapter (A and B of the "default" adapter) only. In the fresh
run the step-1 gradient of every A is exactly zero (B = 0) but A still counts (its grad tensor exists, all zeros).

The script re-executes itself with PYTHONHASHSEED=0, so adapter_config.json's target_modules (a set in peft) is
written in the same order every time and the output is byte-for-byte reproducible.
Self-checks: each run is trained twice and must log identical numbers; step-1 loss ln 2; the fresh initial B is zero;
the two references differ; the "ref" adapter is unchanged after training; clipping is active on some steps.
"""
import json
import math
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_trl_trainer_fixtures as trl_fixtures  # noqa: E402  (sets the single-thread, offline environment first)

import datasets  # noqa: E402
import peft  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from peft import LoraConfig, PeftModel, get_peft_model  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from transformers import GPT2LMHeadModel  # noqa: E402

VERSIONS = {"trl": "1.16.0", "peft": "0.21.2", "transformers": "5.23.0", "torch": "2.15.0"}
FIXTURES = trl_fixtures.FIXTURES
OUT = os.path.join(FIXTURES, "lora")
BASE = "trl/model"  # relative to FIXTURES: the tiny GPT-2 that make_trl_trainer_fixtures.py committed

LORA = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": ["c_attn", "c_proj", "c_fc"],
        "fan_in_fan_out": True, "bias": "none", "use_rslora": False}
LEARNING_RATE = 1e-3
MAX_GRAD_NORM = {"continue": 0.14, "fresh": 0.028}
START_SEED = 43   # torch.manual_seed before get_peft_model for the starting adapter's A
START_B_SEED = 44  # torch.Generator seed for the starting adapter's non-zero B
START_B_STD = 0.3
FRESH_SEED = 42   # torch.manual_seed before DPOTrainer builds the fresh adapter (its A)


def lora_config():
    """The LoraConfig of both runs (task_type CAUSAL_LM: PeftModelForCausalLM, keys base_model.model.*)."""
    return LoraConfig(task_type="CAUSAL_LM", **LORA)


def load_base():
    """The base model, loaded under the relative name BASE (the working directory is FIXTURES)."""
    return GPT2LMHeadModel.from_pretrained(BASE, dtype=torch.float32)


def save_adapter(model, directory):
    """PeftModel.save_pretrained of the "default" adapter only, without the README.md model card."""
    model.save_pretrained(directory, selected_adapters=["default"])
    os.remove(os.path.join(directory, "README.md"))
    assert sorted(os.listdir(directory)) == ["adapter_config.json", "adapter_model.safetensors"], os.listdir(directory)


def make_starting_adapter(directory):
    """A LoRA adapter with PEFT's A and a seeded non-zero B, so base + adapter differs from base."""
    torch.manual_seed(START_SEED)
    model = get_peft_model(load_base(), lora_config())
    g = torch.Generator().manual_seed(START_B_SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".lora_B.default." in name:
                p.copy_(START_B_STD * torch.randn(p.shape, generator=g))
    save_adapter(model, directory)


def dpo_args(out, batch_size, run):
    """make_trl_trainer_fixtures' DPOConfig with this run's clipping and learning rate."""
    args = trl_fixtures.dpo_args(out, batch_size, "sigmoid", 0.0, MAX_GRAD_NORM[run])
    args.learning_rate = LEARNING_RATE
    return args


def make_trainer(run, out, tok, rows, starting_adapter):
    """DPOTrainer for run "continue" (existing PeftModel) or "fresh" (peft_config)."""
    data = datasets.Dataset.from_list(rows)
    args = dpo_args(out, len(rows), run)
    if run == "continue":
        model = PeftModel.from_pretrained(load_base(), starting_adapter, is_trainable=True)
        trainer = trl.DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tok)
        assert "ref" in trainer.model.peft_config, "TRL did not add the 'ref' adapter copy"
    else:
        torch.manual_seed(FRESH_SEED)
        trainer = trl.DPOTrainer(model=load_base(), args=args, train_dataset=data, processing_class=tok,
                                 peft_config=lora_config())
        assert "ref" not in trainer.model.peft_config
    assert trainer.ref_model is None
    trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
    return trainer


def adapter_tensors(model, adapter):
    """{parameter name: detached copy} of one adapter's LoRA weights."""
    return {n: p.detach().clone() for n, p in model.named_parameters() if f".{adapter}." in n and "lora_" in n}


def train(run, tok, rows, starting_adapter, initial_dir=None, final_dir=None):
    """One 8-step run; returns (log entries per step, run facts). Saves the initial/final adapter when asked."""
    with tempfile.TemporaryDirectory() as out:
        trainer = make_trainer(run, out, tok, rows, starting_adapter)
        model = trainer.model
        if initial_dir:
            save_adapter(model, initial_dir)
        start_default = adapter_tensors(model, "default")
        start_ref = adapter_tensors(model, "ref")
        trainer.train()
    steps = [e for e in trainer.state.log_history if "loss" in e and "train_runtime" not in e]
    assert [e["step"] for e in steps] == list(range(1, trl_fixtures.MAX_STEPS + 1)), steps
    if final_dir:
        save_adapter(model, final_dir)

    opt = trainer.optimizer.optimizer if hasattr(trainer.optimizer, "optimizer") else trainer.optimizer
    in_optimizer = {id(p) for g in opt.param_groups for p in g["params"]}
    trainable = [n for n, p in model.named_parameters() if id(p) in in_optimizer]
    assert trainable == list(start_default), "the optimiser holds something other than the default adapter"
    for name, before in start_ref.items():  # the frozen reference copy never moves
        assert torch.equal(model.get_parameter(name), before), name
    assert any(not torch.equal(model.get_parameter(n), t) for n, t in start_default.items()), "adapter did not train"
    facts = {
        "trainable_parameters": trainable,
        "trainable_parameter_count": sum(start_default[n].numel() for n in trainable),
        "adapters": sorted(model.peft_config),
        "reference": "base + frozen copy of the starting adapter ('ref' adapter)" if run == "continue"
        else "base model with the adapter disabled",
        "optimizer_class": type(opt).__name__,
        "optimizer_param_groups": [{"weight_decay": g["weight_decay"], "params": len(g["params"]), "fused": g.get("fused"),
                                    "betas": list(g["betas"]), "eps": g["eps"]} for g in opt.param_groups],
    }
    return steps, facts


def sequence_logps(model, batch):
    """Summed completion log-probs per row of a DPO collator batch ([chosen..., rejected...])."""
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token = torch.gather(logp, 2, batch["input_ids"][:, 1:, None])[..., 0]
    mask = batch["completion_mask"][:, 1:].float()
    return (token * mask).sum(dim=1)


def write_reference_logps(path, tok, rows, starting_adapter):
    """Per-pair summed completion log-probs under the base and under base + starting adapter."""
    with tempfile.TemporaryDirectory() as out:
        probe = make_trainer("fresh", out, tok, rows, starting_adapter)
    prepared = list(probe.train_dataset)
    batch = probe.data_collator([{k: ex[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")} for ex in prepared])
    base = sequence_logps(load_base().eval(), batch)
    adapted = sequence_logps(PeftModel.from_pretrained(load_base(), starting_adapter).eval(), batch)
    n = len(rows)
    gap = (adapted - base).abs().mean().item()
    assert gap > 0.2, f"the starting adapter moves the log-probs by only {gap} nats: raise START_B_STD"
    # What the continue run's step 1 would log with the wrong reference (the base): TRL logs exactly 0 rewards and
    # ln 2. The rewards must miss by far more than float32 rounding (beta * ulp(100) ~ 1e-6) for the fixture to tell
    # the rules apart.
    chosen, rejected = trl_fixtures.BETA * (adapted[:n] - base[:n]), trl_fixtures.BETA * (adapted[n:] - base[n:])
    wrong = {"rewards/chosen": chosen.mean().item(), "rewards/rejected": rejected.mean().item(),
             "rewards/margins": (chosen - rejected).mean().item(),
             "loss": torch.nn.functional.softplus(-(chosen - rejected)).mean().item()}
    assert min(abs(wrong["rewards/chosen"]), abs(wrong["rewards/rejected"])) > 5e-4, wrong
    with open(path, "w", encoding="utf-8") as f:
        json.dump({
            "note": "summed completion log-probs per pair, one batch of all pairs (TRL's collator); 'base' is the "
                    "fresh run's reference, 'base_plus_starting_adapter' the continue run's",
            "mean_abs_difference": gap,
            "continue_step1_if_reference_were_base": wrong,
            "pairs": [{"index": i, "base": {"chosen_logp": float(base[i]), "rejected_logp": float(base[n + i])},
                       "base_plus_starting_adapter": {"chosen_logp": float(adapted[i]),
                                                      "rejected_logp": float(adapted[n + i])}}
                      for i in range(n)],
        }, f, indent=1)
    return gap


def write_config(path, run):
    """The run under dpo-ddp's option names (issue 14's LoRA keys included)."""
    keys = [
        ("model", "../../trl/model"),
        ("data", "../../trl/pairs.jsonl"),
        ("loss", "sigmoid"),
        ("beta", trl_fixtures.BETA),
        ("learning_rate", LEARNING_RATE),
        ("lr_scheduler", "constant"),
        ("warmup_steps", 0),
        ("batch_size", len(trl_fixtures.PAIRS)),
        ("micro_batch_size", len(trl_fixtures.PAIRS)),
        ("max_steps", trl_fixtures.MAX_STEPS),
        ("max_grad_norm", MAX_GRAD_NORM[run]),
        ("weight_decay", trl_fixtures.WEIGHT_DECAY),
        ("adam_beta1", trl_fixtures.ADAM["adam_beta1"]),
        ("adam_beta2", trl_fixtures.ADAM["adam_beta2"]),
        ("adam_epsilon", trl_fixtures.ADAM["adam_epsilon"]),
        ("max_length", trl_fixtures.MAX_LENGTH),
        ("truncation_mode", "keep_start"),
        ("seed", trl_fixtures.SEED),
        ("logging_steps", 1),
    ]
    if run == "continue":
        keys.append(("adapter", "../starting_adapter"))
    else:
        keys += [("lora_r", LORA["r"]), ("lora_alpha", LORA["lora_alpha"]),
                 ("lora_targets", ",".join(LORA["target_modules"])), ("lora_dropout", LORA["lora_dropout"])]
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# TRL {trl.__version__} + peft {peft.__version__} LoRA DPO run '{run}', made by "
                "scripts/make_lora_fixtures.py.\n")
        f.write("# Paths are relative to this file. TRL/peft-only facts are in run_info.json.\n")
        if run == "fresh":
            f.write("# The adapter's A must start from initial_adapter/ (torch's RNG draw); B starts at zero.\n")
        for k, v in keys:
            f.write(f"{k}: {trl_fixtures.yaml_value(v)}\n")


def check_versions():
    found = {"trl": trl.__version__, "peft": peft.__version__, "transformers": transformers.__version__,
             "torch": torch.__version__.split("+")[0]}
    if found != VERSIONS:
        sys.exit(f"make_lora_fixtures.py needs {VERSIONS}, found {found}")


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":  # peft writes target_modules from a set: fix its order across runs
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    check_versions()
    trl_fixtures.quiet_deterministic_torch()
    os.chdir(FIXTURES)
    assert os.path.isfile(os.path.join(BASE, "model.safetensors")), "run scripts/make_trl_trainer_fixtures.py first"
    tok = trl_fixtures.make_tokenizer()
    rows = [dict(p) for p in trl_fixtures.PAIRS]
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    starting = os.path.join(OUT, "starting_adapter")
    make_starting_adapter(starting)
    gap = write_reference_logps(os.path.join(OUT, "reference_logps.json"), tok, rows, starting)

    results = {}
    for run in ("continue", "fresh"):
        run_dir = os.path.join(OUT, run)
        os.makedirs(run_dir)
        initial = os.path.join(run_dir, "initial_adapter") if run == "fresh" else None
        steps, facts = train(run, tok, rows, starting, initial_dir=initial,
                             final_dir=os.path.join(run_dir, "final_adapter"))
        again, _ = train(run, tok, rows, starting)
        assert again == steps, f"{run} run is not deterministic"
        assert abs(steps[0]["loss"] - math.log(2)) < 1e-6, (run, steps[0]["loss"])
        assert steps[0]["rewards/margins"] == 0.0 and steps[0]["rewards/chosen"] == 0.0
        clipped = [e["grad_norm"] > MAX_GRAD_NORM[run] for e in steps]
        assert 0 < sum(clipped), f"{run}: clipping never active"
        if initial:
            b = [t for k, t in load_file(os.path.join(initial, "adapter_model.safetensors")).items() if "lora_B" in k]
            assert b and all(torch.count_nonzero(t) == 0 for t in b), "fresh initial B is not zero"
        results[run] = steps
        trl_fixtures.write_jsonl(os.path.join(run_dir, "expected_metrics.jsonl"), steps)
        write_config(os.path.join(run_dir, "config.yaml"), run)
        info = {"versions": {"trl": trl.__version__, "peft": peft.__version__,
                             "transformers": transformers.__version__, "torch": torch.__version__},
                "lora_config": LORA, "learning_rate": LEARNING_RATE, "max_grad_norm": MAX_GRAD_NORM[run],
                "loss_type": ["sigmoid"], "beta": trl_fixtures.BETA, "precompute_ref_log_probs": False,
                "clipping_active": clipped, "grad_norms": [e["grad_norm"] for e in steps], **facts}
        with open(os.path.join(run_dir, "run_info.json"), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=1)

    print(f"TRL {trl.__version__}, peft {peft.__version__}, transformers {transformers.__version__}, "
          f"torch {torch.__version__}; references differ by {gap:.3f} nats per sequence on average")
    for run, steps in results.items():
        print(f"\n{run} (max_grad_norm {MAX_GRAD_NORM[run]}):  step  loss          grad_norm     rewards/margins  "
              "rewards/chosen  logps/chosen  acc")
        for e in steps:
            print(f"      {e['step']:4d}  {e['loss']:.8f}  {e['grad_norm']:.8f}  {e['rewards/margins']:+.8f}    "
                  f"{e['rewards/chosen']:+.8f}     {e['logps/chosen']:.5f}   {e['rewards/accuracies']:.3f}")
    total = 0
    for dirpath, _, files in sorted(os.walk(OUT)):
        for fname in sorted(files):
            path = os.path.join(dirpath, fname)
            total += os.path.getsize(path)
            print(f"  {os.path.relpath(path, FIXTURES)}  {os.path.getsize(path)}  {trl_fixtures.sha256(path)[:16]}")
    print(f"total {total / 1e3:.1f} kB")


if __name__ == "__main__":
    sys.exit(main())
