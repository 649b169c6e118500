#!/usr/bin/env python3
"""Time tiktoken's `gpt2` encoding on one text file, single thread; called by `dpo-ddp bench-tokenizer`.

Prints one JSON object: {"tiktoken": version, "bytes": n, "tokens": n, "seconds": best, "mb_per_s": x}.
The encoding is built offline from `whisper/assets/gpt2.tiktoken` (PyPI `openai-whisper`), as in
make_tokenizer_fixtures.py. Exits with status 3 and a one-line reason when tiktoken or the rank file is
missing, so the caller can say why the comparison is skipped.

    python3 scripts/bench_tiktoken.py FILE [REPEATS]
"""
import json
import os
import sys
import time

try:
    import tiktoken
    import whisper
    from tiktoken.load import load_tiktoken_bpe
    from tiktoken_ext.openai_public import r50k_pat_str
except ImportError as error:
    print(f"tiktoken comparison skipped: {error} (pip install openai-whisper tiktoken)", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
    ranks = load_tiktoken_bpe(os.path.join(os.path.dirname(whisper.__file__), "assets", "gpt2.tiktoken"))
    encoding = tiktoken.Encoding(
        name="gpt2", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )
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
