"""tiktoken's `gpt2` encoding, built offline from the GPT-2 files bundled with dpo-ddp.

`tiktoken.get_encoding("gpt2")` downloads OpenAI's `vocab.bpe` and `encoder.json` and builds the ranks
with `data_gym_to_mergeable_bpe_ranks`. `vocab.bpe` is byte for byte our `merges.txt` (the SHA-256 below
is the one tiktoken checks), and our `vocab.json` is `encoder.json` re-serialised, which that loader
checks entry by entry against the merges. So this is the same encoding, without a network.
"""
import hashlib
import os

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str

GPT2_FILES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "Sources", "Tokenizer", "Resources", "gpt2")
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"


def gpt2_encoding() -> tiktoken.Encoding:
    """tiktoken's `gpt2` encoding with its ranks read from Sources/Tokenizer/Resources/gpt2."""
    merges = os.path.join(GPT2_FILES, "merges.txt")
    with open(merges, "rb") as f:
        if hashlib.sha256(f.read()).hexdigest() != VOCAB_BPE_SHA256:
            raise SystemExit(f"{merges}: not OpenAI's GPT-2 vocab.bpe (SHA-256 differs)")
    # tiktoken would otherwise keep copies of local files in its download cache, keyed by path.
    os.environ["TIKTOKEN_CACHE_DIR"] = ""
    ranks = data_gym_to_mergeable_bpe_ranks(merges, os.path.join(GPT2_FILES, "vocab.json"))
    return tiktoken.Encoding(name="gpt2", explicit_n_vocab=50257, pat_str=r50k_pat_str,
                             mergeable_ranks=ranks, special_tokens={"<|endoftext|>": 50256})


def gpt2_pieces(text: str) -> list[str]:
    """The pieces tiktoken's pre-tokenizer (its Rust regex engine, GPT-2's pattern) cuts `text` into.

    tiktoken does not expose its split, so this builds an encoding with the same pattern whose ranks are
    every byte substring of `text`: each piece is then itself a token, and the ids are the pieces.
    """
    data = text.encode()
    ranks = {}
    for start in range(len(data)):
        for end in range(start + 1, len(data) + 1):
            ranks.setdefault(data[start:end], len(ranks))
    encoding = tiktoken.Encoding(name="gpt2-pieces", pat_str=r50k_pat_str, mergeable_ranks=ranks, special_tokens={})
    return [encoding.decode_single_token_bytes(token).decode() for token in encoding.encode_ordinary(text)]
