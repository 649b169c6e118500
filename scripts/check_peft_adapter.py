#!/usr/bin/env python3
"""Check that LoRA adapters written by dpo-ddp load in PEFT exactly and give the same model.

Run by hand (never in CI), with torch, transformers, peft and safetensors installed (written against peft 0.21.2,
transformers 5.23.0, torch 2.15.0):

    python3 scripts/check_peft_adapter.py --base BASE ADAPTER [ADAPTER ...] [--merged MERGED]
    python3 scripts/check_peft_adapter.py --self-test [--base BASE]

BASE is the Hugging Face GPT-2 directory the adapter was trained on (config.json + model.safetensors), ADAPTER a
directory with adapter_config.json + adapter_model.safetensors as dpo-ddp writes them (a checkpoint's or final/
adapter; issue 14), MERGED a plain checkpoint written by `dpo-ddp merge-adapter --model BASE --adapter ADAPTER
--output MERGED` (only with one ADAPTER).

For every ADAPTER the script
  1. reads adapter_config.json and fails unless peft_type is "LORA", the fields dpo-ddp must write are there
     (REQUIRED_CONFIG) and fan_in_fan_out is true (GPT-2's Conv1D); rank_pattern/alpha_pattern must be empty;
  2. loads PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(BASE), ADAPTER) while capturing warnings and
     transformers/peft log records, and fails on any message about missing, unexpected or mismatched weights, on
     any key of adapter_model.safetensors that the PEFT model does not expect (unexpected; PEFT itself ignores
     those silently) or any key it expects that the file lacks (missing), on a shape or dtype (float32) mismatch,
     and if a loaded tensor differs from the file;
  3. merges the adapter BY HAND into a copy of the base, W' = W + scaling * (B @ A)^T for every targeted Conv1D
     (W is [in, out]; scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora), and compares the logits of
     that model with the PeftModel's on fixed token ids (relative error <= 1e-4, as check_hf_checkpoint.py);
  4. if ADAPTER/check_logits.safetensors exists (the format of check_hf_checkpoint.py: input_ids, logits, optional
     lengths), compares the PeftModel's logits with it (dpo-ddp's own forward with the adapter) with the same bound;
     this is the check that catches a wrong scaling or a wrong config, which the hand merge (3) reads from the same
     config and so cannot;
  5. with --merged, loads MERGED cleanly (check_hf_checkpoint.load_model) and compares every weight with PeftModel's
     merge_and_unload() (max |difference| <= 1e-5 * max |weight| of that tensor, with an absolute floor of 1e-7) and
     the logits on the fixed token ids (relative error <= 1e-4).
Exit status 0 when every check passes, 1 otherwise; a failure says which check and why.

--self-test builds everything from PEFT's own save_pretrained on BASE (default: the tiny GPT-2 of
Tests/TrainerTests/Fixtures/trl/model; a random adapter with non-zero B, r 4, alpha 8, targets c_attn,c_proj,c_fc),
writes check_logits.safetensors from PEFT's forward and a merged directory from merge_and_unload().save_pretrained,
and requires all checks to pass; then it plants one fault at a time and requires the checks to FAIL: a renamed key
(unexpected + missing), a dropped key (missing), two same-shaped B matrices swapped between layers (logits),
lora_alpha doubled in adapter_config.json (logits file), fan_in_fan_out false (config), and a merged checkpoint
made without the transpose of B @ A (merge).
"""

import argparse
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; base_model_name_or_path is never fetched

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.utils import get_peft_model_state_dict
from safetensors.torch import load_file, save_file
from transformers import GPT2LMHeadModel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_hf_checkpoint import MAX_RELATIVE_ERROR, CheckFailed, LogCollector, check_logits, load_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = ROOT / "Tests" / "TrainerTests" / "Fixtures" / "trl" / "model"
# Fields dpo-ddp must write. PEFT itself requires only peft_type (peft/config.py MIN_EXPECTED_CONFIG_KEYS) and fills
# the rest from LoraConfig's defaults, which change the model: r 8, lora_alpha 8, target_modules None (= c_attn only
# for GPT-2), fan_in_fan_out False, use_rslora False. task_type CAUSAL_LM selects PeftModelForCausalLM;
# base_model_name_or_path is what AutoPeftModelForCausalLM loads the base from.
REQUIRED_CONFIG = ("peft_type", "task_type", "r", "lora_alpha", "target_modules", "fan_in_fan_out", "lora_dropout",
                   "use_rslora", "bias", "base_model_name_or_path")
KEY = re.compile(r"^base_model\.model\.(.+)\.lora_([AB])\.weight$")
MERGE_RELATIVE = 1e-5  # float32: W + sum of r products, each side in its own order: a few ulps of max |W|
MERGE_FLOOR = 1e-7
SUSPICIOUS = re.compile(r"missing|unexpected|mismatch|newly initiali[sz]ed|not initiali[sz]ed|not used|ignored", re.I)
# Fixed token ids for the logits comparisons: ordinary words, punctuation, a long id and EOS.
TOKENS = torch.tensor([[15496, 995, 11, 314, 1101, 257, 1332, 286, 262, 6152, 13, 50256],
                       [464, 3139, 286, 4881, 318, 6342, 13, 220, 40, 1842, 50000, 50256]])


def read_config(adapter: Path) -> dict:
    """adapter_config.json, with the fields dpo-ddp must write checked."""
    path = adapter / "adapter_config.json"
    if not path.is_file():
        raise CheckFailed(f"{path} not found")
    config = json.loads(path.read_text())
    absent = [k for k in REQUIRED_CONFIG if k not in config]
    if absent:
        raise CheckFailed(f"{path} lacks {absent}")
    if config["peft_type"] != "LORA":
        raise CheckFailed(f"{path}: peft_type {config['peft_type']!r}, want 'LORA'")
    if config["fan_in_fan_out"] is not True:
        raise CheckFailed(f"{path}: fan_in_fan_out {config['fan_in_fan_out']!r}; GPT-2's Conv1D needs true")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise CheckFailed(f"{path}: rank_pattern/alpha_pattern are set; dpo-ddp has one r and alpha for all layers")
    return config


def load_adapter(base: Path, adapter: Path) -> PeftModel:
    """PeftModel.from_pretrained with every sign of an incomplete load turned into CheckFailed."""
    collector = LogCollector()
    loggers = [logging.getLogger("transformers"), logging.getLogger("peft")]
    for logger in loggers:
        logger.addHandler(collector)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(base, dtype=torch.float32), adapter)
    except Exception as error:  # e.g. a shape mismatch, an unreadable file
        raise CheckFailed(f"PeftModel.from_pretrained raised {type(error).__name__}: {error}") from error
    finally:
        for logger in loggers:
            logger.removeHandler(collector)
    messages = [f"log ({r.name} {r.levelname}): {r.getMessage()}" for r in collector.records]
    messages += [f"python warning ({w.category.__name__}): {w.message}" for w in caught]
    problems = [m for m in messages if SUSPICIOUS.search(m)]

    stored = load_file(adapter / "adapter_model.safetensors")
    # save_embedding_layers=False: "auto" looks up base_model_name_or_path's config to see if the vocabulary changed
    expected = get_peft_model_state_dict(model, save_embedding_layers=False)
    problems += [f"unexpected key {k}" for k in sorted(set(stored) - set(expected))]
    problems += [f"missing key {k}" for k in sorted(set(expected) - set(stored))]
    for key in sorted(set(stored) & set(expected)):
        have, want = stored[key], expected[key]
        if have.dtype != torch.float32 or have.shape != want.shape:
            problems.append(f"{key}: {have.dtype} {tuple(have.shape)}, PEFT expects float32 {tuple(want.shape)}")
        elif not torch.equal(have, want):
            problems.append(f"{key}: the loaded tensor differs from the file")
    if problems:
        raise CheckFailed("loading was not clean:\n    " + "\n    ".join(problems))
    return model.eval()


def merge_by_hand(base: Path, adapter: Path, config: dict) -> GPT2LMHeadModel:
    """The base with W += scaling * (B @ A)^T on every Conv1D that the file has A and B for."""
    model = GPT2LMHeadModel.from_pretrained(base, dtype=torch.float32).eval()
    r = config["r"]
    scaling = config["lora_alpha"] / (math.sqrt(r) if config["use_rslora"] else r)
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in load_file(adapter / "adapter_model.safetensors").items():
        match = KEY.match(key)
        if not match:
            raise CheckFailed(f"{key} is not base_model.model.<module>.lora_A/B.weight")
        pairs.setdefault(match.group(1), {})[match.group(2)] = tensor
    with torch.no_grad():
        for module, ab in pairs.items():
            weight = model.get_parameter(f"{module}.weight")  # Conv1D: [in, out]
            weight += scaling * (ab["B"] @ ab["A"]).T
    return model


def logits(model, input_ids: torch.Tensor = TOKENS) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).logits


def compare_logits(what: str, ours: torch.Tensor, reference: torch.Tensor) -> None:
    """Relative error max |ours - reference| / max |reference|, bounded by MAX_RELATIVE_ERROR."""
    relative = ((ours - reference).abs().max() / reference.abs().max()).item()
    print(f"  {what}: max relative logit error {relative:.3e} (limit {MAX_RELATIVE_ERROR:.0e})")
    if not relative <= MAX_RELATIVE_ERROR:  # also catches NaN
        raise CheckFailed(f"{what}: relative logit error {relative:.3e} exceeds {MAX_RELATIVE_ERROR:.0e}")


def check_merged(model: PeftModel, merged: Path) -> None:
    """MERGED loads cleanly and equals PEFT's merge_and_unload() weight by weight and in logits."""
    mine = load_model(merged)
    peft_merged = model.merge_and_unload().eval()
    theirs = peft_merged.state_dict()
    worst = ""
    for name, tensor in mine.state_dict().items():
        bound = max(MERGE_RELATIVE * theirs[name].abs().max().item(), MERGE_FLOOR)
        error = (tensor - theirs[name]).abs().max().item()
        if not error <= bound:
            worst += f"\n    {name}: max |difference| {error:.3e} > {bound:.3e}"
    if worst:
        raise CheckFailed(f"{merged} differs from PEFT's merge_and_unload():{worst}")
    print("  merged weights equal merge_and_unload()'s")
    compare_logits("merged checkpoint vs merge_and_unload()", logits(mine), logits(peft_merged))


def check(base: Path, adapter: Path, merged: Path | None) -> None:
    """Every check of the docstring on one adapter directory."""
    config = read_config(adapter)
    model = load_adapter(base, adapter)
    print(f"  loads cleanly: {len(load_file(adapter / 'adapter_model.safetensors'))} tensors, r {config['r']}, "
          f"alpha {config['lora_alpha']}, targets {config['target_modules']}")
    compare_logits("PEFT vs merged by hand", logits(model), logits(merge_by_hand(base, adapter, config)))
    if (adapter / "check_logits.safetensors").is_file():
        check_logits(model, adapter)
    if merged is not None:
        check_merged(model, merged)


def run_checks(base: Path, adapters: list[Path], merged: Path | None) -> list[Path]:
    """check() on each adapter; returns the ones that failed."""
    failed = []
    for adapter in adapters:
        print(f"{adapter}:")
        try:
            check(base, adapter, merged)
            print("  OK")
        except CheckFailed as failure:
            print(f"  FAIL: {failure}")
            failed.append(adapter)
    return failed


def write_peft_adapter(base: Path, directory: Path) -> PeftModel:
    """A PEFT-saved adapter with non-zero B, its check_logits.safetensors, and the model (for merging)."""
    torch.manual_seed(0)
    model = get_peft_model(GPT2LMHeadModel.from_pretrained(base, dtype=torch.float32), LoraConfig(
        task_type="CAUSAL_LM", r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["c_attn", "c_proj", "c_fc"],
        fan_in_fan_out=True))
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".lora_B." in name:
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
    model.save_pretrained(directory)
    model.eval()
    save_file({"input_ids": TOKENS, "logits": logits(model)}, directory / "check_logits.safetensors")
    return model


def self_test(base: Path) -> int:
    """Passes on PEFT's own save; fails on each planted fault. Returns the exit status."""
    work = Path(tempfile.mkdtemp(prefix="check_peft_adapter-"))
    try:
        good = work / "adapter"
        model = write_peft_adapter(base, good)
        merged = work / "merged"
        model.merge_and_unload().save_pretrained(merged)
        if run_checks(base, [good], merged):
            print("SELF-TEST FAILED: PEFT's own save does not pass", file=sys.stderr)
            return 1

        def variant(name, edit_tensors=None, edit_config=None):
            directory = work / name
            shutil.copytree(good, directory)
            if edit_tensors:
                path = directory / "adapter_model.safetensors"
                tensors = load_file(path)
                edit_tensors(tensors)
                save_file(tensors, path, metadata={"format": "pt"})
            if edit_config:
                path = directory / "adapter_config.json"
                config = json.loads(path.read_text())
                edit_config(config)
                path.write_text(json.dumps(config, indent=2, sort_keys=True))
            return directory

        prefix = "base_model.model.transformer.h."
        b0, b1 = f"{prefix}0.attn.c_proj.lora_B.weight", f"{prefix}1.attn.c_proj.lora_B.weight"
        planted = {
            "renamed key": variant("renamed", lambda t: t.__setitem__(
                b0.replace("lora_B", "lora_b"), t.pop(b0))),
            "dropped key": variant("dropped", lambda t: t.pop(b0)),
            "swapped B between layers": variant("swapped", lambda t: t.update({b0: t[b1], b1: t[b0]})),
            "alpha doubled in the config": variant("alpha", edit_config=lambda c: c.update(
                lora_alpha=2 * c["lora_alpha"])),
            "fan_in_fan_out false": variant("fanin", edit_config=lambda c: c.update(fan_in_fan_out=False)),
        }
        escaped = [name for name, directory in planted.items() if not run_checks(base, [directory], None)]

        bad_merge = work / "merged-untransposed"
        shutil.copytree(merged, bad_merge)
        peft_model = PeftModel.from_pretrained(GPT2LMHeadModel.from_pretrained(base, dtype=torch.float32), good)
        state = load_file(base / "model.safetensors")
        for name, module in peft_model.named_modules():
            if hasattr(module, "lora_A") and "default" in module.lora_A:
                key = name.removeprefix("base_model.model.") + ".weight"
                delta = module.scaling["default"] * (module.lora_B["default"].weight @ module.lora_A["default"].weight)
                # The planted bug: B @ A added without the transpose ([out, in] onto W's [in, out]), reshaped
                # where the layer is not square so the file still loads.
                delta = delta.reshape(state[key].shape)
                state[key] = (state[key] + delta).detach().contiguous()
        save_file(state, bad_merge / "model.safetensors", metadata={"format": "pt"})
        if not run_checks(base, [good], bad_merge):
            escaped.append("merged without the transpose")
        if escaped:
            print(f"SELF-TEST FAILED: planted faults not caught: {escaped}", file=sys.stderr)
            return 1
        print(f"self-test passed: PEFT's own save passes; {len(planted) + 1} planted faults each fail")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=None, help="the Hugging Face base model directory")
    parser.add_argument("--merged", type=Path, default=None, help="a dpo-ddp merge-adapter output to compare")
    parser.add_argument("--self-test", action="store_true", help="check this script on PEFT's own save")
    parser.add_argument("adapters", nargs="*", type=Path, metavar="ADAPTER")
    args = parser.parse_args()
    if args.self_test:
        return self_test(args.base or DEFAULT_BASE)
    if args.base is None or not args.adapters:
        parser.error("give --base BASE and at least one ADAPTER directory (or --self-test)")
    if args.merged is not None and len(args.adapters) != 1:
        parser.error("--merged compares one merged checkpoint with one ADAPTER")
    failed = run_checks(args.base, args.adapters, args.merged)
    if failed:
        print(f"FAILED: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
