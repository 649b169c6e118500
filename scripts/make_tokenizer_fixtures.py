#!/usr/bin/env python3
"""Generate the tokenizer parity fixtures with tiktoken's `gpt2` encoding, offline.

Writes Tests/TokenizerTests/Fixtures/corpus.txt (a mixed corpus of >100k tokens: Python source, English
prose from data/dpo_en_demo.json, licence text, CJK, emoji, accents and combining marks, whitespace runs,
contractions, numbers, `<|endoftext|>` in text) and corpus-ids.json (tiktoken's ids for it, one JSON array).

The encoding is built from `whisper/assets/gpt2.tiktoken` (PyPI package `openai-whisper`) with
tiktoken's own GPT-2 pattern (`tiktoken_ext.openai_public.r50k_pat_str`) and `<|endoftext|>` = 50256,
exactly as `tiktoken.get_encoding("gpt2")` does but without a download.

    pip install openai-whisper tiktoken
    python3 scripts/make_tokenizer_fixtures.py
"""
import json
import os
import random
import sys

import tiktoken
import whisper
from tiktoken.load import load_tiktoken_bpe
from tiktoken_ext.openai_public import r50k_pat_str

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")


def gpt2_encoding() -> tiktoken.Encoding:
    ranks = load_tiktoken_bpe(os.path.join(os.path.dirname(whisper.__file__), "assets", "gpt2.tiktoken"))
    return tiktoken.Encoding(
        name="gpt2", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256}
    )


def python_source() -> str:
    import json.decoder as a, textwrap as b

    return "".join(open(m.__file__, encoding="utf-8").read() for m in (a, b))


def prose() -> str:
    with open(os.path.join(ROOT, "data", "dpo_en_demo.json"), encoding="utf-8") as f:
        rows = json.load(f)
    return "\n\n<|endoftext|>".join(r["chosen"]["value"] + "\n" + r["rejected"]["value"] for r in rows[:25])


def synthetic(rng: random.Random) -> str:
    cjk = [chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(3000)]
    kana = [chr(rng.randint(0x3041, 0x3096)) for _ in range(800)]
    hangul = [chr(rng.randint(0xAC00, 0xD7A3)) for _ in range(800)]
    emoji = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🤖", "🎉", "🧑🏿‍💻", "☕", "🏳️‍🌈"]
    accents = ["café", "naïve", "Ångström", "résumé", "São Paulo", "Zürich", "e\u0301", "n\u0303o", "ﬁne", "Straße"]
    words = ["don't", "I'm", "we've", "they'll", "she'd", "it's", "can't", "O'Neil", "'re", "rock'n'roll", "DON'T"]
    spaces = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u00a0", "\u3000", "\u2003", "\u200b", "    \t\n  "]
    numbers = ["2024", "3.14159", "1,000,000", "٣٤٥", "Ⅻ", "½", "0x1F", "1e-9", "१२३"]
    punctuation = ["!!!", "...", "?!", "—", "«", "»", "(", ")", "{", "}", "<|", "|>", "<|endoftext", "&&", "@#$%"]
    pools = [cjk, kana, hangul, emoji, accents, words, numbers, punctuation]
    out = []
    for _ in range(7000):
        pool = rng.choice(pools)
        out.append("".join(rng.choice(pool) for _ in range(rng.randint(1, 6))))
        out.append(rng.choice(spaces) if rng.random() < 0.5 else " ")
        if rng.random() < 0.002:
            out.append("<|endoftext|>")
    return "".join(out)


def main() -> None:
    encoding = gpt2_encoding()
    licence = open("/usr/share/common-licenses/Apache-2.0", encoding="utf-8").read()
    corpus = "<|endoftext|>".join([python_source(), prose(), licence, synthetic(random.Random(3))]) + "   \n\t "
    ids = encoding.encode(corpus, allowed_special={"<|endoftext|>"})
    assert encoding.decode(ids) == corpus
    assert len(ids) >= 100_000, len(ids)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "corpus.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(corpus)
    with open(os.path.join(OUT, "corpus-ids.json"), "w") as f:
        json.dump(ids, f, separators=(",", ":"))
    print(f"corpus: {len(corpus.encode())} bytes, {len(ids)} tokens", file=sys.stderr)


if __name__ == "__main__":
    main()
