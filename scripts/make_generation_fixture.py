#!/usr/bin/env python3
"""Generate the greedy-generation parity fixture for GPT2Generator.

Run by hand (never in CI) from the repository root, with torch, transformers and safetensors
installed; no network and no Hugging Face Hub access are needed:

    python3 scripts/make_generation_fixture.py

It (re)writes Tests/GPT2Tests/Fixtures/ (~1.6 MB):

  gen-model/              GPT2LMHeadModel with the parity model's shape (vocab 50257, n_positions
                          32, n_embd 16, 2 layers, 2 heads; see scripts/make_gpt2_fixtures.py),
                          Hugging Face's init from torch.manual_seed(1) with initializer_range 0.3,
                          after model.half(), saved by save_pretrained (F16 weights: half the
                          size; F16 values are exact in float32, so it is the same function read
                          in F16 or F32). The larger init keeps greedy decoding from repeating one
                          token (as the parity model's 0.02 init does), so the 20 steps test the
                          cache at every position.
  greedy_generation.json  prompt text and ids (GPT-2's tokenizer, from the vocab.json and
                          merges.txt bundled in Sources/Tokenizer/Resources/gpt2), and the ids of
                          GPT2LMHeadModel.generate(do_sample=False, max_new_tokens=20) run in
                          float32 on gen-model, with the smallest gap between the best and the
                          second-best logit over the 20 steps (an independent float32
                          implementation agrees on every argmax when that gap is far above 1e-6)

The script checks itself: the smallest gap must exceed 1e-4 and the 20 new tokens must not
contain <|endoftext|> (so all 20 steps are compared).
"""

import json
from pathlib import Path

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

ROOT = Path(__file__).resolve().parent.parent
TOKENIZER = ROOT / "Sources" / "Tokenizer" / "Resources" / "gpt2"
FIXTURES = ROOT / "Tests" / "GPT2Tests" / "Fixtures"
GEN_MODEL = FIXTURES / "gen-model"
PROMPT = "The quick brown fox jumps over the lazy"
MAX_NEW_TOKENS = 20
EOS_ID = 50256


def main() -> None:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(1)
    config = GPT2Config(
        vocab_size=50257, n_positions=32, n_embd=16, n_layer=2, n_head=2, activation_function="gelu_new",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5, initializer_range=0.3,
        tie_word_embeddings=True,
    )
    GPT2LMHeadModel(config).half().save_pretrained(GEN_MODEL, safe_serialization=True)
    model = GPT2LMHeadModel.from_pretrained(GEN_MODEL, dtype=torch.float32, attn_implementation="eager").eval()

    tokenizer = GPT2Tokenizer.from_pretrained(TOKENIZER)
    prompt_ids = tokenizer(PROMPT)["input_ids"]
    assert len(prompt_ids) + MAX_NEW_TOKENS <= model.config.n_positions, "prompt too long for n_positions"

    input_ids = torch.tensor([prompt_ids])
    with torch.no_grad():
        out = model.generate(
            input_ids,
            attention_mask=torch.ones_like(input_ids),
            do_sample=False,
            max_new_tokens=MAX_NEW_TOKENS,
            eos_token_id=EOS_ID,
            pad_token_id=EOS_ID,
            output_logits=True,
            return_dict_in_generate=True,
        )
    new_ids = out.sequences[0, len(prompt_ids):].tolist()
    gaps = [float(step[0].topk(2).values[0] - step[0].topk(2).values[1]) for step in out.logits]
    assert len(new_ids) == MAX_NEW_TOKENS and EOS_ID not in new_ids, f"generation stopped early: {new_ids}"
    assert min(gaps) > 1e-4, f"a greedy step is nearly tied (gap {min(gaps):.2e}): pick another prompt"

    fixture = {
        "model": "gen-model",
        "prompt": PROMPT,
        "prompt_ids": prompt_ids,
        "max_new_tokens": MAX_NEW_TOKENS,
        "expected_new_ids": new_ids,
        "expected_text": tokenizer.decode(out.sequences[0].tolist()),
        "min_top2_logit_gap": min(gaps),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    (FIXTURES / "greedy_generation.json").write_text(json.dumps(fixture, indent=2) + "\n")
    print(f"prompt ids {prompt_ids}\nnew ids {new_ids}\nsmallest top-2 gap {min(gaps):.3e}")
    print(f"text: {fixture['expected_text']!r}")


if __name__ == "__main__":
    main()
