#!/usr/bin/env python3
"""Time tiktoken's `gpt2` encoding on one text file, single thread; called by `dpo-ddp bench-tokenizer`.

Prints one JSON object: {"tiktoken": version, "bytes": n, "tokens": n, "seconds": best, "mb_per_s": x}.
The encoding is tiktoken's `gpt2`, built offline from the bundled GPT-2 files (gpt2_tiktoken.py, as in
make_tokenizer_fixtures.py). Exits with status 3 and a one-line reason when tiktoken is missing, so the
caller can say why the comparison is skipped.

    python3 scripts/bench_tiktoken.py FILE [REPEATS]
"""
import json
import sys
import time

try:
    import tiktoken
    from gpt2_tiktoken import gpt2_encoding
except ImportError as error:
    print(f"tiktoken comparison skipped: {error} (pip install tiktoken)", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    encoding = gpt2_encoding()
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    size = len(text.encode("utf-8"))
    ids = encoding.encode(text, allowed_special="all")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        encoding.encode(text, allowed_special="all")
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"tiktoken": tiktoken.__version__, "bytes": size, "tokens": len(ids), "seconds": best,
                      "mb_per_s": size / best / 1e6}))


if __name__ == "__main__":
    main()
