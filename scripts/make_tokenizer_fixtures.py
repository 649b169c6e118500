#!/usr/bin/env python3
"""Generate the tokenizer parity fixtures with tiktoken's `gpt2` encoding, offline.

Writes Tests/TokenizerTests/Fixtures/corpus.txt (a mixed corpus of >100k tokens: Python source, English
prose from data/dpo_en_demo.json, licence text, CJK, emoji, accents and combining marks, whitespace runs,
contractions, numbers, `<|endoftext|>` in text) and corpus-ids.json (tiktoken's ids for it, one JSON array),
and two lists of `{"name", "text", "ids"}` cases:

- long-runs.json: runs without spaces, each one pre-tokenizer piece that the merge loop sees whole (one
  repeated letter of every length up to 40 and a few thousand, repeated multi-byte letters, digits,
  punctuation, emoji, whitespace, random letters of several scripts);
- unicode-classes.json: scalars of every Unicode general category (modifier letters Lm such as `ー`
  in `コーヒー`, titlecase letters Lt such as `ǅ`, marks, number kinds, symbols, spaces, format and
  control characters, planes above the BMP), each in contexts where its class decides the split, with
  tiktoken's pieces as well as its ids (a wrong class often leaves the ids alone: few merges cross
  the boundary it misplaces).

The encoding is built exactly as `tiktoken.get_encoding("gpt2")` builds it, but offline: tiktoken's
own `gpt2()` constructor reads OpenAI's `vocab.bpe` and `encoder.json`, which are the `merges.txt`
(checked by its SHA-256) and `vocab.json` bundled in Sources/Tokenizer/Resources/gpt2.

    pip install tiktoken
    python3 scripts/make_tokenizer_fixtures.py
"""
import json
import os
import random
import sys
import unicodedata

import tiktoken

from gpt2_tiktoken import gpt2_encoding, gpt2_pieces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "TokenizerTests", "Fixtures")


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


def long_runs(rng: random.Random) -> list[tuple[str, str]]:
    """Runs without spaces: one piece each, so the merge loop sees them whole."""
    cases = [(f"'a' x {n}", "a" * n) for n in range(2, 41)]
    cases += [(f"'a' x {n}", "a" * n) for n in (1000, 4097)]
    cases += [(f"' ' + 'a' x {n}", " " + "a" * n) for n in (999, 1001)]
    cases += [("'ab' x 600", "ab" * 600), ("'abc' x 401", "abc" * 401), ("'aab' x 300", "aab" * 300)]
    for unit, count in [("é", 500), ("日", 300), ("ー", 300), ("🤖", 200), ("1", 1001), ("!", 1001),
                        ("-=", 400), ("\n", 300), ("  ", 201)]:
        cases.append((f"{unit!r} x {count}", unit * count))
    ascii_letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    cases.append(("2000 random ASCII letters", "".join(rng.choice(ascii_letters) for _ in range(2000))))
    letters = "aeiouéèçñßøæœжщыλωπあいうカタナー漢字한글ǅʰ"
    cases.append(("600 random letters of several scripts", "".join(rng.choice(letters) for _ in range(600))))
    return cases


# Scalars of each general category, old enough to be classified alike by every Unicode version in use.
CATEGORY_SAMPLES = {
    "Lu": "AΩЖＡ\U0001D400", "Ll": "aßжµ\U0001D41A",
    "Lt": "\u01C5\u01C8\u01CB\u01F2\u1F88\u1FBC\u1FCC\u1FFC",
    "Lm": "\u02B0\u02BC\u02C6\u02D1\u30FC\u3005\u309D\uFF70\u1D43\uA717",
    "Lo": "\u00AA\u00BA\u05D4\u0E01\u3042\u4E2D\u1100\U00020000",
    "Mn": "\u0301\u0308\u05B4\u0E31\u20D7\uFE0F\U000E0100", "Mc": "\u093E\u0903\u0BBE\U0001D165",
    "Me": "\u20DD\u0488", "Nd": "0\u0663\u0969\uFF10\U0001D7D8", "Nl": "\u216B\u2170\u3007\u16EE",
    "No": "½²①⁴\U0001D360", "Pc": "_\u203F\uFF3F", "Pd": "-—‐゠", "Ps": "(「⁅", "Pe": ")」⁆",
    "Pi": "«‘“", "Pf": "»’”", "Po": "!.'\"·。¿", "Sm": "+∑≤¬", "Sc": "$€¥₿",
    "Sk": "^`¨\u02D8\u02DC\uFF3E\U0001F3FD", "So": "©☕⌘\U0001F916",
    "Zs": "\u0020\u00A0\u1680\u2000\u2007\u202F\u205F\u3000", "Zl": "\u2028", "Zp": "\u2029",
    "Cc": "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00\x7f\x85",
    "Cf": "\u00AD\u200B\u200D\uFEFF\u2060\u180E\U000E0001", "Co": "\uE000\uF8FF", "Cn": "\uFFFE\uFFFF",
}


def unicode_classes() -> list[tuple[str, str]]:
    """Each sample scalar where its class decides the split: between letters, digits, punctuation and
    spaces, repeated, after a space, in a contraction's place; plus words whose letters are Lm or Lt."""
    cases = []
    for category, samples in CATEGORY_SAMPLES.items():
        for c in samples:
            assert unicodedata.category(c) == category, (hex(ord(c)), unicodedata.category(c), category)
            text = f"x{c}y 1{c}2 !{c}? {c}{c}{c} {c}a {c}1 a{c} 1{c} '{c}s \t{c}\n\n{c}  {c}x"
            cases.append((f"{category} U+{ord(c):04X}", text))
    words = ["コーヒー", "スーパーマーケット", "ǅemal ǈubljana ǋegoš", "kʰat pʰone", "ʼokina", "ᾈδης",
             "時々々", "ゝゞ", "ｺｰﾋｰ", "don'tʰ", "ǅ'sǅ", "DŽ ǅ dž"]
    cases += [(f"word {w!r}", f"{w} {w}{w} x{w}") for w in words]
    return cases


def encode_cases(encoding: tiktoken.Encoding, cases: list[tuple[str, str]], with_pieces: bool) -> list[dict]:
    """tiktoken's ids for each case and, if asked, the pieces its pre-tokenizer cuts the text into."""
    out = []
    for name, text in cases:
        ids = encoding.encode(text, disallowed_special=())
        assert encoding.decode(ids) == text, name
        out.append({"name": name, "text": text, "ids": ids})
        if with_pieces:
            out[-1]["pieces"] = gpt2_pieces(text)
            assert "".join(out[-1]["pieces"]) == text, name
    return out


def write_cases(name: str, cases: list[dict]) -> None:
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cases) + "\n]\n")
    print(f"{name}: {len(cases)} cases, {sum(len(c['ids']) for c in cases)} tokens", file=sys.stderr)


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
    write_cases("long-runs.json", encode_cases(encoding, long_runs(random.Random(5)), with_pieces=False))
    write_cases("unicode-classes.json", encode_cases(encoding, unicode_classes(), with_pieces=True))


if __name__ == "__main__":
    main()
