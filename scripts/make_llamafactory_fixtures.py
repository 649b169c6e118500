#!/usr/bin/env python3
"""Generate the LLaMA-Factory parity fixtures by running LLaMA-Factory's own functions.

Writes, under Tests/PreferenceDataTests/Fixtures/llamafactory/:

- infer_seqlen.json: `infer_seqlen(source_len, target_len, cutoff_len)` for a grid of prompt lengths,
  response lengths and cutoffs (edge cases: zeros, half the cutoff and one either side, a prompt far
  longer than the cutoff whose response share rounds down to 0, cutoff 2 and odd cutoffs).
  dpo-ddp's `truncation_mode: proportional` (ProportionalTruncation.swift) must give the same pairs.
- mix.json: the row order `merge_dataset` (LLaMA-Factory's data_utils.py, which calls Hugging Face
  `concatenate_datasets` / `interleave_datasets` with stopping_strategy first_exhausted or
  all_exhausted) gives for data sets of several lengths, with `mix_strategy` concat,
  interleave_under and interleave_over and no `interleave_probs` (the deterministic round-robin;
  with probabilities the draws come from numpy's generator, which dpo-ddp does not reproduce).
- val_size.json: how many pairs `split_dataset` (LLaMA-Factory's data_utils.py, which calls Hugging
  Face `Dataset.train_test_split`) holds out for a `val_size` fraction or count and a data size.

The functions are LLaMA-Factory's, not copies: the files are loaded from an installed `llamafactory`
package or from a source checkout, without importing the package's heavy `__init__` (which needs
torch, torchaudio, ...). The fixtures were made from

    llamafactory 0.9.5 (PyPI), identical to github.com/hiyouga/LLaMA-Factory tag v0.9.5,
    commit 7af909522a951e3ad9f022ea6f88b6755257eaa5:
      src/llamafactory/data/processor/processor_utils.py   (git blob db44b19cf6fc84d6551fb7cce82283774ae72030)
      src/llamafactory/data/data_utils.py                  (git blob 144dbde1d8efa55fe1e9ff350110242678aaa223)
    datasets 5.2.0

The blobs are checked, so a different LLaMA-Factory version is noticed rather than silently used.

    python3 -m venv --system-site-packages /tmp/lf && /tmp/lf/bin/pip install llamafactory==0.9.5 --no-deps
    /tmp/lf/bin/python scripts/make_llamafactory_fixtures.py          # needs datasets, fsspec
    python3 scripts/make_llamafactory_fixtures.py --source PATH/TO/LLaMA-Factory   # or a checkout
"""
import argparse
import hashlib
import importlib.util
import json
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "PreferenceDataTests", "Fixtures", "llamafactory")
EXPECTED_BLOBS = {
    "data/processor/processor_utils.py": "db44b19cf6fc84d6551fb7cce82283774ae72030",
    "data/data_utils.py": "144dbde1d8efa55fe1e9ff350110242678aaa223",
}


def git_blob(path):
    data = open(path, "rb").read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def package_dir(source):
    if source:
        return os.path.join(source, "src", "llamafactory")
    spec = importlib.util.find_spec("llamafactory")
    if spec is None:
        sys.exit("llamafactory is not installed: pip install llamafactory==0.9.5 --no-deps, or pass --source")
    return list(spec.submodule_search_locations)[0]


def load(package, relative, name):
    path = os.path.join(package, relative)
    blob = git_blob(path)
    if blob != EXPECTED_BLOBS[relative]:
        sys.exit(f"{path}: git blob {blob}, expected {EXPECTED_BLOBS[relative]} (LLaMA-Factory v0.9.5)")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def stub_packages(package):
    """Empty `llamafactory`, `llamafactory.data` and `llamafactory.extras` packages (so data_utils'
    relative imports resolve without running their __init__), with the real extras/logging.py."""
    for name, sub in [("llamafactory", ""), ("llamafactory.data", "data"), ("llamafactory.extras", "extras")]:
        module = types.ModuleType(name)
        module.__path__ = [os.path.join(package, sub)]
        sys.modules[name] = module
    spec = importlib.util.spec_from_file_location("llamafactory.extras.logging", os.path.join(package, "extras", "logging.py"))
    logging = importlib.util.module_from_spec(spec)
    sys.modules["llamafactory.extras.logging"] = logging
    spec.loader.exec_module(logging)
    sys.modules["llamafactory.extras"].logging = logging


def seqlen_table(infer_seqlen):
    lengths = [0, 1, 2, 3, 5, 31, 32, 33, 63, 64, 65, 100, 255, 256, 257, 300, 511, 512, 513, 1000, 5000, 100000]
    rows = []
    for cutoff in [2, 3, 7, 64, 511, 512, 1024]:
        for prompt in lengths:
            for response in lengths:
                kept = infer_seqlen(prompt, response, cutoff)
                rows.append([prompt, response, cutoff, kept[0], kept[1]])
    return {"columns": ["prompt", "response", "max_length", "kept_prompt", "kept_response"], "rows": rows}


def mix_table(merge_dataset):
    import datasets

    cases = []
    for lengths in [[3, 4, 5], [5, 2], [1, 6], [4, 4], [2], [3, 1, 2]]:
        sets = [datasets.Dataset.from_dict({"set": [s] * n, "row": list(range(n))}) for s, n in enumerate(lengths)]
        for strategy in ["concat", "interleave_under", "interleave_over"]:
            args = types.SimpleNamespace(mix_strategy=strategy, streaming=False, interleave_probs=None)
            merged = merge_dataset(sets, args, seed=42)
            cases.append({"lengths": lengths, "mix_strategy": strategy,
                          "order": [[s, r] for s, r in zip(merged["set"], merged["row"])]})
    return cases


def val_size_table(split_dataset):
    import datasets

    rows = []
    for pairs in [2, 3, 7, 10, 24, 99, 100, 300, 1000]:
        dataset = datasets.Dataset.from_dict({"row": list(range(pairs))})
        for val_size in [0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1, 2, 5]:
            if val_size >= pairs:
                continue
            args = types.SimpleNamespace(val_size=val_size, streaming=False, buffer_size=0)
            try:
                _, evaluation = split_dataset(dataset, None, args, seed=42)
            except ValueError:  # a fraction that leaves no training row
                continue
            rows.append([pairs, val_size, len(evaluation["validation"])])
    return {"columns": ["pairs", "val_size", "eval_pairs"], "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", help="a LLaMA-Factory checkout (default: the installed llamafactory package)")
    args = parser.parse_args()
    package = package_dir(args.source)
    stub_packages(package)
    utils = load(package, "data/processor/processor_utils.py", "llamafactory.data.processor.processor_utils")
    data_utils = load(package, "data/data_utils.py", "llamafactory.data.data_utils")
    os.makedirs(OUT, exist_ok=True)
    for name, value in [("infer_seqlen.json", seqlen_table(utils.infer_seqlen)),
                        ("mix.json", mix_table(data_utils.merge_dataset)),
                        ("val_size.json", val_size_table(data_utils.split_dataset))]:
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(value, f, separators=(",", ":"))
            f.write("\n")
        print("wrote", os.path.join(OUT, name))


if __name__ == "__main__":
    main()
