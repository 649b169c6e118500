#!/usr/bin/env python3
"""Generate the preference-data parity fixtures with TRL's own DPOTrainer preprocessing.

For every input under Tests/PreferenceDataTests/Fixtures/formats/ this builds a real `trl.DPOTrainer`
(TRL 1.x; a 1-layer random GPT-2, nothing downloaded) and reads back what its `_prepare_dataset` made
(`trainer.train_dataset`: `prompt_ids`, `chosen_ids`, `rejected_ids`, after `extract_prompt`, the EOS
append and `tokenize_fn`, and the keep_start drop of prompts that fill `max_length`), then runs each
kept row through `trainer.data_collator` (`DataCollatorForPreference`: per-sequence truncation) and
records every row's ids and prompt length (length minus the completion mask's ones). It does this
twice, with `truncation_mode="keep_start"` and `"keep_end"`, and writes Fixtures/expected/NAME.json.

The tokenizer is `GPT2TokenizerFast` over the vocab.json/merges.txt the Swift package ships. TRL has no
reader for LLaMA-Factory's formats, so alpaca and ShareGPT rows are first turned into TRL
conversational rows the way LLaMA-Factory reads them (alpaca: user = instruction + "\n" + input when
input is non-empty; ShareGPT: system/human/gpt -> system/user/assistant), and conversations are rendered
with the Jinja form of our plain chat template (ChatTemplate.plain in Sources/PreferenceData).

Input fixtures: hand-written rows, and sharegpt.json = the first 24 rows of data/dpo_en_demo.json.
Also records, in expected/dpo_en_demo.json, TRL's kept-pair count on the whole demo at max_length 1024.

    pip install torch transformers trl datasets
    python3 scripts/make_trl_fixtures.py
"""
import json
import os
import tempfile
import warnings

import datasets
import transformers
import trl
from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "PreferenceDataTests", "Fixtures")
TOKENIZER = os.path.join(ROOT, "Sources", "Tokenizer", "Resources", "gpt2")

# The Jinja form of ChatTemplate.plain.
PLAIN_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}System: {{ m['content'] }}\n\n"
    "{% elif m['role'] == 'user' %}User: {{ m['content'] }}\n\n"
    "{% else %}Assistant: {{ m['content'] }}<|endoftext|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

# name -> (input file, format given to the Swift loader, max_length)
CASES = {
    "standard": ("standard.jsonl", "standard", 40),
    "implicit-prompt": ("implicit-prompt.jsonl", "implicit-prompt", 40),
    "implicit-prompt-conversational": ("implicit-prompt-conversational.jsonl", "implicit-prompt", 12),
    "conversational": ("conversational.jsonl", "conversational", 40),
    "alpaca": ("alpaca.json", "alpaca", 12),
    "sharegpt": ("sharegpt.json", "sharegpt", 512),
}


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith(".json"):
            return json.load(f)
        return [json.loads(line) for line in f if line.strip()]


def to_trl(row, fmt):
    if fmt == "alpaca":
        request = row["instruction"] + ("\n" + row["input"] if row.get("input") else "")
        return {
            "prompt": [{"role": "user", "content": request}],
            "chosen": [{"role": "assistant", "content": row["chosen"]}],
            "rejected": [{"role": "assistant", "content": row["rejected"]}],
        }
    if fmt == "sharegpt":
        roles = {"system": "system", "human": "user", "gpt": "assistant"}
        return {
            "prompt": [{"role": roles[m["from"]], "content": m["value"]} for m in row["conversations"]],
            "chosen": [{"role": "assistant", "content": row["chosen"]["value"]}],
            "rejected": [{"role": "assistant", "content": row["rejected"]["value"]}],
        }
    return dict(row)


def tokenizer():
    tok = GPT2TokenizerFast.from_pretrained(TOKENIZER)
    assert tok("Hello world<|endoftext|>")["input_ids"] == [15496, 995, 50256]
    tok.chat_template = PLAIN_TEMPLATE
    return tok


def prepare(rows, max_length, mode):
    """Rows as `trl.DPOTrainer` prepares them: (tokenized rows, collated kept rows)."""
    tok = tokenizer()
    config = GPT2Config(n_layer=1, n_head=1, n_embd=8, n_positions=1024, vocab_size=len(tok))
    model, ref_model = GPT2LMHeadModel(config), GPT2LMHeadModel(config)
    data = datasets.Dataset.from_list([dict(r, row_index=i) for i, r in enumerate(rows)])
    with tempfile.TemporaryDirectory() as out:
        args = trl.DPOConfig(output_dir=out, max_length=max_length, truncation_mode=mode, report_to=[], logging_strategy="no", use_cpu=True, bf16=False)
        trainer = trl.DPOTrainer(model=model, ref_model=ref_model, args=args, train_dataset=data, processing_class=tok)
    prepared = list(trainer.train_dataset)
    collated = []
    for example in prepared:
        batch = trainer.data_collator([{k: example[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")}])
        sides = []
        for r in range(2):
            length = int(batch["attention_mask"][r].sum())
            completion = int(batch["completion_mask"][r].sum())
            sides.append({"ids": batch["input_ids"][r][:length].tolist(), "prompt_length": length - completion})
        collated.append({"row": example["row_index"], "chosen": sides[0], "rejected": sides[1]})
    return prepared, collated


def main():
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    os.makedirs(os.path.join(FIXTURES, "expected"), exist_ok=True)
    for name, (file, fmt, max_length) in CASES.items():
        rows = [to_trl(r, fmt) for r in read_rows(os.path.join(FIXTURES, "formats", file))]
        end_rows, keep_end = prepare(rows, max_length, "keep_end")
        _, keep_start = prepare(rows, max_length, "keep_start")
        expected = {
            "input": "formats/" + file,
            "format": fmt,
            "max_length": max_length,
            "trl_version": trl.__version__,
            "rows": [{k: r[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")} for r in end_rows],
            "keep_start": keep_start,
            "keep_end": keep_end,
        }
        with open(os.path.join(FIXTURES, "expected", name + ".json"), "w") as f:
            json.dump(expected, f, separators=(",", ":"))
        print(f"{name}: {len(rows)} rows, keep_start keeps {len(keep_start)}, keep_end keeps {len(keep_end)}")
    demo = [to_trl(r, "sharegpt") for r in read_rows(os.path.join(ROOT, "data", "dpo_en_demo.json"))]
    prepared, _ = prepare(demo, 1024, "keep_start")
    longest = [len(r["prompt_ids"]) + max(len(r["chosen_ids"]), len(r["rejected_ids"])) for r in prepared]
    summary = {"rows": len(demo), "max_length": 1024, "truncation_mode": "keep_start", "pairs": len(prepared),
               "truncated_pairs": sum(1 for n in longest if n > 1024)}
    with open(os.path.join(FIXTURES, "expected", "dpo_en_demo.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("dpo_en_demo:", summary)


if __name__ == "__main__":
    main()
