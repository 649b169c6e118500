#!/usr/bin/env python3
"""Reference fixtures for the Swift Safetensors target, written and read by huggingface/safetensors.

    python3 scripts/make_safetensors_fixtures.py
        Writes Tests/SafetensorsTests/Fixtures/reference.safetensors with the reference writer
        (F32, F16, BF16, I64, I32 tensors and string metadata). SafetensorsTests reads it.

    python3 scripts/make_safetensors_fixtures.py --check FILE
        Loads FILE (written by our Swift writer) with the reference reader and checks that it
        holds exactly the fixture's tensors (bit for bit) and metadata. SafetensorsTests writes
        such a file when SAFETENSORS_CHECK_OUTPUT names a path.

Needs numpy, torch (for bfloat16) and safetensors.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

FIXTURE = Path(__file__).resolve().parent.parent / "Tests/SafetensorsTests/Fixtures/reference.safetensors"
METADATA = {"format": "pt", "note": 'dpo-ddp reference fixture: "quoted", unicode \u2713'}
# Our writer emits F32, F16, BF16 and I64 only; the I32 tensor checks the reader alone.
NOT_WRITTEN_BY_SWIFT = {"i32.values"}

F16_BITS = [0x0000, 0x8000, 0x3C00, 0xC000, 0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x03FF, 0x0400,
            0x3555, 0x7C00, 0xFC00, 0x7E00, 0xFE01]
BF16_BITS = [0x0000, 0x8000, 0x3F80, 0xC000, 0x7F7F, 0x0001, 0x007F, 0x0080, 0x4049,
             0x7F80, 0xFF80, 0x7FC0]


def from_bits(bits, dtype):
    return torch.from_numpy(np.array(bits, dtype=np.uint16).view(np.int16)).view(dtype)


def rounding_source():
    """F32 values that exercise round-to-nearest-even into F16 and BF16."""
    ties = [1 + 2**-11, 1 + 3 * 2**-11, 65520.0, 65519.0, 2**-25, 3 * 2**-25, 2**-24 + 2**-25,
            1 + 2**-8, 1 + 3 * 2**-8, -(1 + 2**-8), 2**-14 - 2**-25, 2**-126 + 2**-134]
    near = [np.nextafter(np.float32(t), np.float32(sign * np.inf)) for t in ties for sign in (1, -1)]
    rng = np.random.default_rng(0)
    spread = rng.standard_normal(96) * 10.0 ** rng.uniform(-9, 6, 96)
    extremes = [0.0, -0.0, np.inf, -np.inf, 3.4028235e38, -1e-45, 1e5, -7e4]
    return np.array(ties + near + list(spread) + extremes, dtype=np.float32)


def to_f16(values):
    with np.errstate(over="ignore"):  # values past 65504 are meant to round to infinity
        return values.astype(np.float16)


def reference_tensors():
    source = rounding_source()
    return {
        "f32.matrix": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1,
        "f32.special": torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 1e-45, 3.4028235e38,
                                     float("inf"), float("-inf")], dtype=torch.float32),
        "f32.scalar": torch.tensor(3.25, dtype=torch.float32),
        "f32.empty": torch.zeros(0, 3, dtype=torch.float32),
        "f16.bits": from_bits(F16_BITS, torch.float16),
        "bf16.bits": from_bits(BF16_BITS, torch.bfloat16),
        "rounding.source": torch.from_numpy(source),
        "rounding.f16": torch.from_numpy(to_f16(source)),
        "rounding.bf16": torch.from_numpy(source).to(torch.bfloat16),
        "i64.values": torch.tensor([0, 1, -1, 2**63 - 1, -2**63, 123456789012], dtype=torch.int64),
        "i32.values": torch.tensor([0, -1, 2**31 - 1, -2**31, 7], dtype=torch.int32).reshape(5, 1),
    }


def same_bits(a, b):
    if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
        return False
    as_int = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
    return torch.equal(a.contiguous().view(as_int), b.contiguous().view(as_int))


def check(path):
    expected = {k: v for k, v in reference_tensors().items() if k not in NOT_WRITTEN_BY_SWIFT}
    with safe_open(str(path), framework="pt") as f:
        metadata = f.metadata()
        found = {key: f.get_tensor(key) for key in f.keys()}
    problems = []
    if metadata != METADATA:
        problems.append(f"metadata {metadata!r} != {METADATA!r}")
    if set(found) != set(expected):
        problems.append(f"tensor names {sorted(found)} != {sorted(expected)}")
    for key in sorted(set(found) & set(expected)):
        if not same_bits(found[key], expected[key]):
            problems.append(f"{key}: {found[key].dtype} {tuple(found[key].shape)} differs from "
                            f"{expected[key].dtype} {tuple(expected[key].shape)} or its bits")
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"{path}: reference reader loaded {len(found)} tensors and metadata; all match bit for bit")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", metavar="FILE", type=Path, help="verify a file our Swift writer wrote")
    args = parser.parse_args()
    if args.check:
        return check(args.check)
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    save_file(reference_tensors(), str(FIXTURE), metadata=METADATA)
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
