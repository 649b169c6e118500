#!/usr/bin/env python3
"""Check that GPT-2 checkpoints written by our Swift code load and run in Hugging Face transformers.

Run by hand (never in CI), with torch, transformers and safetensors installed:

    python3 scripts/check_hf_checkpoint.py DIR [DIR2 ...]

Each DIR is a save_pretrained-style directory (config.json + model.safetensors) that also holds
check_logits.safetensors, written by the Swift tool from its own forward pass:

    input_ids  I64 [B, T]
    logits     F32 [B, T, V]
    lengths    I64 [B]      optional: rows are right-padded; only positions t < lengths[b] are
                            compared, and the model gets attention_mask = (t < lengths[b])

For every DIR the script
  1. loads it with GPT2LMHeadModel.from_pretrained(DIR, output_loading_info=True, dtype=float32)
     while capturing transformers' log records and Python warnings, and fails if loading raises,
     if the loading info lists missing, unexpected or mismatched keys or errors, or if any captured
     message speaks of missing, unexpected, mismatched, unused or newly initialized weights;
  2. runs the model on input_ids and compares with the stored logits, printing
     max |swift - hf|, max |hf|, and their ratio (the relative error), and fails if the ratio
     exceeds 1e-4.
The exit status is 0 when every DIR passes and 1 otherwise; failures say which check failed.
"""

import argparse
import logging
import re
import sys
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel

MAX_RELATIVE_ERROR = 1e-4
# Log and warning text that means some weight was not loaded from the checkpoint as it is.
SUSPICIOUS = re.compile(r"missing|unexpected|mismatch|newly initiali[sz]ed|not initiali[sz]ed|not used", re.I)


class CheckFailed(Exception):
    """A check failed; the message says which one and why."""


class LogCollector(logging.Handler):
    """Keeps every record it receives."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def load_model(directory: Path) -> GPT2LMHeadModel:
    """from_pretrained with every sign of an incomplete or mismatched load turned into CheckFailed."""
    collector = LogCollector()
    hf_logger = logging.getLogger("transformers")  # parent of all transformers loggers
    hf_logger.addHandler(collector)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model, info = GPT2LMHeadModel.from_pretrained(
                directory, output_loading_info=True, dtype=torch.float32
            )
    except Exception as error:  # e.g. a shape mismatch, a missing or unreadable file
        raise CheckFailed(f"from_pretrained raised {type(error).__name__}: {error}") from error
    finally:
        hf_logger.removeHandler(collector)

    messages = [f"transformers log ({r.levelname}): {r.getMessage()}" for r in collector.records]
    messages += [f"python warning ({w.category.__name__}): {w.message}" for w in caught]
    problems = [f"{key}: {sorted(map(str, info[key]))}" for key in info if info[key]]
    problems += [m for m in messages if SUSPICIOUS.search(m)]
    for message in messages:
        if not SUSPICIOUS.search(message):
            print(f"  note: {message}")
    if problems:
        raise CheckFailed("loading was not clean:\n    " + "\n    ".join(problems))
    return model.eval()


def check_logits(model: GPT2LMHeadModel, directory: Path) -> None:
    """Compare the model's logits with DIR/check_logits.safetensors; print and bound the error."""
    path = directory / "check_logits.safetensors"
    if not path.is_file():
        raise CheckFailed(f"{path} not found")
    stored = load_file(path)
    input_ids, swift = stored["input_ids"], stored["logits"]
    batch, seq_len = input_ids.shape
    if input_ids.dtype != torch.int64 or swift.dtype != torch.float32:
        raise CheckFailed(f"dtypes input_ids {input_ids.dtype}, logits {swift.dtype}; want int64, float32")
    if swift.shape != (batch, seq_len, model.config.vocab_size):
        raise CheckFailed(f"logits shape {tuple(swift.shape)} != {(batch, seq_len, model.config.vocab_size)}")

    if "lengths" in stored:
        lengths = stored["lengths"]
        if lengths.shape != (batch,) or lengths.min() < 1 or lengths.max() > seq_len:
            raise CheckFailed(f"lengths {lengths.tolist()} do not fit input_ids [{batch}, {seq_len}]")
        real = torch.arange(seq_len)[None, :] < lengths[:, None]
        attention_mask = real.long()
    else:
        real = torch.ones(batch, seq_len, dtype=torch.bool)
        attention_mask = None

    with torch.no_grad():
        hf = model(input_ids=input_ids, attention_mask=attention_mask).logits
    abs_error = (swift[real] - hf[real]).abs().max().item()
    reference = hf[real].abs().max().item()
    relative = abs_error / reference
    print(f"  compared {int(real.sum())} positions x {hf.shape[-1]} logits")
    print(f"  max abs error      {abs_error:.3e}")
    print(f"  max abs reference  {reference:.3e}")
    print(f"  max relative error {relative:.3e} (limit {MAX_RELATIVE_ERROR:.0e})")
    if not relative <= MAX_RELATIVE_ERROR:  # also catches NaN
        raise CheckFailed(f"relative error {relative:.3e} exceeds {MAX_RELATIVE_ERROR:.0e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directories", nargs="+", type=Path, metavar="DIR")
    failed = []
    for directory in parser.parse_args().directories:
        print(f"{directory}:")
        try:
            check_logits(load_model(directory), directory)
            print("  OK")
        except CheckFailed as failure:
            print(f"  FAIL: {failure}")
            failed.append(directory)
    if failed:
        print(f"FAILED: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
