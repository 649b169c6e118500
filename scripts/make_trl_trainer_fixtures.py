#!/usr/bin/env python3
"""Generate the DPO trainer parity fixtures with TRL's own `DPOTrainer` (TRL 1.16, transformers 5.23, torch 2.15).

Writes Tests/TrainerTests/Fixtures/trl/:

    model/                     tiny GPT2LMHeadModel (save_pretrained: config.json + model.safetensors, float32, tied
                               lm_head so only transformer.wte.weight is stored). No tokenizer files: GPT-2's
                               tokenizer.json is 3.5 MB; the tokenizer is the bundled Sources/Tokenizer GPT-2 one.
    pairs.jsonl                the preference pairs, TRL standard format (prompt, chosen, rejected strings)
    tokenized.json             TRL's own preprocessing of every pair (prompt_ids, chosen_ids, rejected_ids)
    reference_logps.json       summed completion log-probs of the initial model per pair (what TRL's reference gives)
    <run>/expected_metrics.jsonl  one JSON object per optimiser step, exactly the entries of trainer.state.log_history
    <run>/config.yaml          the run under dpo-ddp's option names (paths relative to Tests/TrainerTests/Fixtures)
    <run>/run_info.json        TRL-side settings with no dpo-ddp option (optim name, versions, clipping per step, ...)

Runs (each from the same initial model, full batch: per_device_train_batch_size = number of pairs, one process,
gradient_accumulation_steps 1, max_steps 8, constant LR 1e-3, no warmup, AdamW, weight decay 0, beta 0.1, clipping at
a per-run max_grad_norm, seed 42, logging_steps 1, float32 (bf16=False), dropout disabled, live reference model):

    sigmoid   loss_type="sigmoid"
    ipo       loss_type="ipo"
    robust    loss_type="robust", label_smoothing=0.1

and one run per further objective (OBJECTIVE_RUNS, max_grad_norm 1.0): exo_pair (label_smoothing 1e-3), aot, aot_unpaired
(label_smoothing 0.1), discopop (discopop_tau 0.05), sigmoid under f_divergence_type forward_kl, js_divergence and
alpha_divergence (coef 0.5), sigmoid with ld_alpha 0.5, sigmoid with use_weighting (WPO), and TR-DPO (sigmoid with
sync_ref_model, ref_model_sync_steps 2, ref_model_mixup_alpha 0.6).

Nothing is downloaded: the model is built from GPT2Config and the tokenizer from the vocab.json/merges.txt that
Sources/Tokenizer ships. The script is deterministic (single thread, fixed seeds); it checks that itself by training the
sigmoid run twice and comparing every logged number, and that the first sigmoid/robust loss is log 2 and the first IPO
loss is (1/(2 beta))^2 (policy == reference at step 1).

    python3 scripts/make_trl_trainer_fixtures.py

HOW TRL 1.16 COMPUTES THE LOSS AND EVERY LOGGED METRIC (read from trl/trainer/dpo_trainer.py,
trl/trainer/utils.py, trl/kernels/chunked_logprob.py and transformers/trainer.py as installed)
-----------------------------------------------------------------------------------------------------------

Data. Non-conversational rows: `chosen`/`rejected` get the EOS text "<|endoftext|>" appended unless they already end
with it (string test `endswith(eos_token)`). Then prompt, prompt+chosen and prompt+rejected are tokenized separately
(no special tokens added; "<|endoftext|>" in the text is the special token 50256). The prompt length used is
    prompt_len = min(common_prefix_len(prompt_ids, prompt+chosen ids), common_prefix_len(prompt_ids, prompt+rejected ids))
and prompt_ids = prompt_ids[:prompt_len], chosen_ids = (prompt+chosen ids)[prompt_len:], same for rejected. So when BPE
merges across the boundary ("Hello wor"+"ld!" -> "Hello"," world","!"), the last prompt token(s) are dropped from the
prompt and the completion starts at the merged token, for BOTH chosen and rejected (the min over both). Rows whose
prompt alone has >= max_length tokens are dropped (keep_start). The collator builds rows [chosen_0..chosen_{B-1},
rejected_0..rejected_{B-1}] = prompt_ids + completion_ids, truncated per row to max_length (keep_start: first
max_length tokens), right-padded with pad id (= EOS 50256), attention_mask 1 on real tokens, completion_mask 1 on
completion tokens. Position ids come from the model default (0..T-1; right padding, so unaffected).

Per-token log-probs. labels = input_ids with prompt and padding set to -100; token t (t >= 1) is scored with the logits
at position t-1: logp_t = log_softmax(h_{t-1} W_e^T)[x_t] (tied LM head, no bias, temperature 1), and positions whose
label is -100 contribute exactly 0. So a row's sequence log-prob is
    logp(y|x) = sum over completion tokens t of log pi(x_t | x_<t)      (SUM, not mean; prompt and padding excluded)
(ld_alpha is None.) The reference log-probs are the same sum under the frozen reference model (a fresh load of the same
checkpoint directory, in eval mode, under no_grad; not precomputed here).

    c = logp_pi(y+) - logp_ref(y+)   (chosen_logratios),    r = logp_pi(y-) - logp_ref(y-)   (rejected_logratios)
    delta = c - r  (f_divergence_type "reverse_kl": scores = logratios)
    loss  = sum_k loss_weight_k * mean_over_pairs(per_sequence_loss_k)       (loss_weights default 1.0)

Loss types in TRL 1.16 (beta = args.beta, eps = args.label_smoothing, sigma = logistic, logsig = log sigma):
    sigmoid      -logsig(beta*delta)                       (label_smoothing is NOT used: TRL 1.x has no cDPO here)
    hinge        relu(1 - beta*delta)
    ipo          (delta_n - 1/(2*beta))^2  with  delta_n = c/|y+| - r/|y-|, |y| = completion_mask.sum(row).clamp(min=1)
                 i.e. the policy AND reference log-ratios are both divided by the completion length (number of
                 completion tokens in the un-shifted completion_mask; equals the number of scored tokens whenever the
                 prompt is non-empty). Only the loss uses the normalised ratios.
    exo_pair     q = sigma(beta*delta): q*(logsig(beta*delta) - log(1-eps)) + (1-q)*(logsig(-beta*delta) - log(eps))
                 (requires eps > 0; paper suggests 1e-3)
    nca_pair     -logsig(beta*c) - 0.5*logsig(-beta*c) - 0.5*logsig(-beta*r)
    robust       ( -(1-eps)*logsig(beta*delta) + eps*logsig(-beta*delta) ) / (1 - 2*eps)
                 (TRL code: clean = -(1-eps)*logsig(b*d); flipped = -eps*logsig(-b*d); (clean - flipped)/(1-2eps);
                 note the MINUS: the flipped term is subtracted, unlike cDPO which adds it; at delta = 0 it is log 2)
    bco_pair     -logsig(beta*c) - logsig(-beta*r)          (no running reward mean "delta" in 1.16's DPOTrainer)
    sppo_hard    (c - 0.5/beta)^2 + (r + 0.5/beta)^2
    aot          sort_asc(logp_pi(y+) - logp_pi(y-)) - sort_asc(logp_ref(y+) - logp_ref(y-)) = d (elementwise after
                 sorting each over the micro-batch);  -(1-eps)*logsig(beta*d) - eps*logsig(-beta*d)
    aot_unpaired d = sort_asc(c) - sort_asc(r); same expression   (there is no "aot_pair" in 1.16; it is "aot")
    apo_zero     (1 - sigma(beta*c)) + sigma(beta*r)
    apo_down     sigma(beta*c) + (1 - sigma(beta*(c - r)))
    discopop     z = beta*delta, m = sigma(z/discopop_tau) (tau default 0.05): -logsig(z)*(1-m) + exp(-z)*m
    sft          -mean over ALL chosen completion tokens of the micro-batch of logp_t (token mean, not per-pair mean),
                 the same scalar for every pair (so mean_over_pairs is that scalar)
    sigmoid_norm -logsig(beta*(c/|y+| - r/|y-|)) with the same length normalisation as ipo
    simpo        not in DPOTrainer 1.16; it lives in trl.experimental.cpo.CPOTrainer (loss_type="simpo"):
                 m = mean_logp_pi(y+) - mean_logp_pi(y-) (per-token MEAN over completion tokens, no reference),
                 z = beta*(m - gamma/beta) = beta*m - gamma;  loss = -(1-eps)*logsig(z) - eps*logsig(-z)
                 plus cpo_alpha * NLL(chosen) (CPOConfig default cpo_alpha=1.0; SimPO proper uses cpo_alpha=0),
                 simpo_gamma default 0.5. Its rewards are beta*mean_logp_pi (no reference).
    (use_weighting=True, WPO, multiplies each per-pair loss by exp(mean aligned logp chosen)*exp(... rejected); off here)

Metrics, appended once per micro-batch (per compute_loss call) to self._metrics["train"][key]; at a logging step
`DPOTrainer.log` replaces each list by its arithmetic mean (an unweighted mean over the micro-batches since the last log,
across gradient-accumulation micro-steps and logging_steps > 1) and clears the lists. Across processes, every per-pair
quantity is `accelerator.gather`ed first, so within one micro-step the mean is over all pairs of all ranks:
    rewards/chosen     mean over pairs of beta*c          (UN-normalised c, also for ipo / sigmoid_norm)
    rewards/rejected   mean over pairs of beta*r
    rewards/accuracies mean over pairs of [beta*c > beta*r]   (strict; ties count 0 -> 0.0 at step 1)
    rewards/margins    mean over pairs of beta*(c - r)
    logps/chosen       mean over pairs of the SUMMED policy completion log-prob logp_pi(y+) (never normalised, even for
                       ipo); logps/rejected likewise
    logits/chosen      token-weighted: sum over all chosen completion positions (all pairs, all ranks) of
                       mean_v(logit_v) / number of those positions = the mean over ALL vocab entries of the logits
                       that predict the chosen completion tokens (the logits at the position BEFORE each completion
                       token); logits/rejected likewise. Policy model, float32.
    entropy            token-weighted mean over chosen+rejected completion positions of the policy's next-token entropy
    mean_token_accuracy  fraction of chosen completion tokens that are the argmax of the policy's prediction
                       (ties: target counts as top-1 only if it is >= the max and strictly > every earlier logit)
    num_tokens         CUMULATIVE number of non-padding tokens (attention_mask sum: prompt + completion, chosen rows AND
                       rejected rows, i.e. the prompt counts twice) processed by training so far, over all ranks; it is
                       set (not averaged) to the running total.
    loss               (transformers Trainer) the mean over the steps since the last log of the per-step loss; per step
                       the loss returned by compute_loss is divided by gradient_accumulation_steps (DPOTrainer does not
                       scale for GA itself, loss_is_scaled_for_ga=None, num_items_in_batch unused) and summed over the
                       micro-steps, then averaged over processes: i.e. the mean over micro-batches of the per-micro-batch
                       mean over pairs. With equal micro-batches that is the mean over all pairs of the step.
                       No rounding.
    grad_norm          total L2 norm over ALL parameter gradients (torch.nn.utils.clip_grad_norm_ via accelerate, norm
                       of the vector of per-tensor norms) BEFORE clipping, after gradient accumulation/all-reduce; the
                       tied wte/lm_head weight is one parameter (its gradient is the sum of both uses). Clipping then
                       multiplies every gradient by clamp(max_grad_norm / (grad_norm + 1e-6), max=1.0).
    learning_rate      the LR used by this optimiser step (read after optimizer.step, before scheduler.step)
    epoch              global_step / steps_per_epoch as a float (here 1 step = 1 epoch, so 1.0, 2.0, ...)
    step               global_step after the update (1-based)
Metrics are computed from the forward pass of the micro-batch BEFORE this step's update: the entry of step k describes
the model after k-1 updates (so step 1 is the initial model: c = r = 0, loss = log 2 for sigmoid).

Optimiser (transformers 5.23, torch >= 2.8): optim default "adamw_torch_fused" = torch.optim.AdamW(fused=True) with
lr, betas (adam_beta1, adam_beta2) = (0.9, 0.999), eps 1e-8, decoupled weight decay p -= lr*wd*p. Trainer builds two
parameter groups: weight decay for every parameter except those whose name contains "bias", "layernorm", "rmsnorm",
"norm" as a dotted component or "_norm", and except nn.LayerNorm modules' parameters (so GPT-2's ln_1/ln_2/ln_f
weights and biases and every Conv1D bias get weight_decay 0); wte (tied lm_head), wpe and Conv1D weights decay.
Weight decay is 0.0 in these fixtures, so the grouping does not matter here. Scheduler "constant": LR = learning_rate
for every step (warmup 0).

What each fixture can test: loss, grad_norm, rewards/*, logps/*, logits/* at every step. The reproduction target in
issue 4 is 1e-3 relative on loss, grad_norm, rewards/margins, rewards/chosen and logps/chosen (rewards at step 1 are
exactly 0: compare those absolutely).
"""
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
    os.environ.pop(var, None)
os.environ["CUDA_VISIBLE_DEVICES"] = ""
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

import datasets  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import trl  # noqa: E402
from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TrainerTests", "Fixtures")
OUT = os.path.join(FIXTURES, "trl")
TOKENIZER = os.path.join(ROOT, "Sources", "Tokenizer", "Resources", "gpt2")

SEED = 42
MAX_STEPS = 8
LEARNING_RATE = 1e-3
BETA = 0.1
MAX_LENGTH = 128
WEIGHT_DECAY = 0.0
ADAM = {"adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8}

# max_grad_norm per run, chosen from trial runs so that clipping is active on most steps. With these 16 pairs the
# logged (pre-clip) grad norms are sigmoid 0.32-0.43 and robust 0.41-0.56 (clipped at every step), ipo 8.8-14.5
# (steps 1-2 unclipped, 3-8 clipped: the only run that also exercises the unclipped branch).
RUNS = {
    "sigmoid": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 0.3},
    "ipo": {"loss_type": "ipo", "label_smoothing": 0.0, "max_grad_norm": 9.0},
    "robust": {"loss_type": "robust", "label_smoothing": 0.1, "max_grad_norm": 0.38},
}
# The other objectives of TRL 1.16's DPOConfig, one run each: "options" are DPOConfig fields, which dpo-ddp reads
# under the same YAML names. max_grad_norm 1.0 throughout (the three runs above cover clipping).
OBJECTIVE_RUNS = {
    "exo_pair": {"loss_type": "exo_pair", "label_smoothing": 1e-3, "max_grad_norm": 1.0, "options": {}},
    "aot": {"loss_type": "aot", "label_smoothing": 0.0, "max_grad_norm": 1.0, "options": {}},
    "aot_unpaired": {"loss_type": "aot_unpaired", "label_smoothing": 0.1, "max_grad_norm": 1.0, "options": {}},
    "discopop": {"loss_type": "discopop", "label_smoothing": 0.0, "max_grad_norm": 1.0, "options": {"discopop_tau": 0.05}},
    "forward_kl": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 1.0,
                   "options": {"f_divergence_type": "forward_kl"}},
    "js_divergence": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 1.0,
                      "options": {"f_divergence_type": "js_divergence"}},
    "alpha_divergence": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 1.0,
                         "options": {"f_divergence_type": "alpha_divergence", "f_alpha_divergence_coef": 0.5}},
    "ld_alpha": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 1.0, "options": {"ld_alpha": 0.5}},
    "use_weighting": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 1.0,
                      "options": {"use_weighting": True}},
    # TR-DPO: the reference is mixed with the policy after steps 2, 4 and 6, so steps 3-8 see a moved reference.
    "tr_dpo": {"loss_type": "sigmoid", "label_smoothing": 0.0, "max_grad_norm": 1.0,
               "options": {"sync_ref_model": True, "ref_model_sync_steps": 2, "ref_model_mixup_alpha": 0.6}},
}

EOT = "<|endoftext|>"

# Hand-written pairs: varied lengths, a BPE merge across the prompt/completion boundary (prompt "Hello wor" +
# completion "ld!"; and a prompt ending in a space followed by a completion starting with a letter), a chosen that
# already ends in <|endoftext|>, unicode and emoji.
PAIRS = [
    {"prompt": "Repeat after me: Hello wor", "chosen": "ld! Nice to meet you.", "rejected": "ds are cheap."},
    {"prompt": "Q: Is the sky blue on a clear day? A: The answer is ", "chosen": "yes, because of Rayleigh scattering.", "rejected": "no."},
    {"prompt": "Write a short greeting for a friend.", "chosen": " Hi there, I hope you are having a wonderful day!" + EOT, "rejected": " Go away."},
    {"prompt": "The capital of France is", "chosen": " Paris.", "rejected": " Berlin, which is also the largest city in Germany."},
    {"prompt": "Translate to French: good morning", "chosen": " -> bonjour", "rejected": " -> bonsoir, mon ami"},
    {"prompt": "Describe the weather in one emoji:", "chosen": " ☀️ sunny and warm", "rejected": " 🌧️🌧️🌧️ rain rain rain"},
    {"prompt": "Comment dit-on « merci » en japonais ?", "chosen": " On dit « ありがとう » (arigatō).", "rejected": " Je ne sais pas."},
    {"prompt": "List three primary colours.", "chosen": " Red, yellow and blue.", "rejected": " Green, purple, orange, pink, brown and grey are all primary colours."},
    {
        "prompt": "You are a helpful assistant. A user asks how to keep a sourdough starter alive while travelling for two "
        "weeks without access to a fridge. Give practical advice.",
        "chosen": " Dry some starter on baking paper, crumble it into a jar, and rehydrate it with flour and water when "
        "you get home.",
        "rejected": " Just leave it on the counter; it will be fine.",
    },
    {"prompt": "Name a famous physicist:", "chosen": " Marie Curie", "rejected": " Mickey Mouse"},
    {"prompt": "Summarise: The cat sat on the mat and purred happily all afternoon.", "chosen": " A content cat rested on a mat.", "rejected": " Dogs bark."},
    {"prompt": "Is water wet? Answer briefly.", "chosen": " It makes things wet; whether it is itself wet depends on the definition.", "rejected": " Maybe??? 🤷"},
    {"prompt": "Spell the word 'naïve' backwards:", "chosen": " evïan", "rejected": " evian"},
    {"prompt": "Give a one-word synonym for happy.", "chosen": " Joyful", "rejected": " Sad, unhappy, miserable and gloomy"},
    {"prompt": "Why do leaves change colour in autumn? Explain for a child.", "chosen": " The green fades as trees stop making chlorophyll, so yellow and red show.", "rejected": " Because of paint."},
    {"prompt": "def add(a, b):\n", "chosen": "    return a + b\n", "rejected": "    return a - b\n"},
]


def make_tokenizer():
    tok = GPT2TokenizerFast(os.path.join(TOKENIZER, "vocab.json"), os.path.join(TOKENIZER, "merges.txt"))
    tok.pad_token = tok.eos_token
    assert len(tok) == 50257 and tok.eos_token_id == 50256 and tok.pad_token_id == 50256
    assert tok("Hello world" + EOT)["input_ids"] == [15496, 995, 50256]
    return tok


def make_model(model_dir, tok):
    """Tiny GPT-2, HF init under torch.manual_seed(0), then LayerNorm weights/biases and Conv1D biases perturbed."""
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=50257, n_positions=MAX_LENGTH, n_embd=32, n_layer=2, n_head=2, activation_function="gelu_new",
        bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
                p.add_(0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):  # LayerNorm biases and every Conv1D bias (c_attn, c_proj, c_fc)
                p.add_(0.02 * torch.randn(p.shape, generator=g))
    model.save_pretrained(model_dir, safe_serialization=True)
    for name in ("generation_config.json",):  # keep the directory to what a loader needs
        path = os.path.join(model_dir, name)
        if os.path.exists(path):
            os.remove(path)


def dpo_args(output_dir, batch_size, loss_type, label_smoothing, max_grad_norm, max_steps=MAX_STEPS, options=None):
    return trl.DPOConfig(
        **(options or {}),
        output_dir=output_dir,
        loss_type=[loss_type],
        beta=BETA,
        label_smoothing=label_smoothing,
        learning_rate=LEARNING_RATE,
        lr_scheduler_type="constant",
        warmup_steps=0,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=1,
        max_steps=max_steps,
        max_grad_norm=max_grad_norm,
        weight_decay=WEIGHT_DECAY,
        adam_beta1=ADAM["adam_beta1"],
        adam_beta2=ADAM["adam_beta2"],
        adam_epsilon=ADAM["adam_epsilon"],
        max_length=MAX_LENGTH,
        truncation_mode="keep_start",
        seed=SEED,
        data_seed=SEED,
        logging_strategy="steps",
        logging_steps=1,
        eval_strategy="no",
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        bf16=False,
        fp16=False,
        gradient_checkpointing=False,
        disable_dropout=True,
        precompute_ref_log_probs=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def train(model_dir, tok, rows, loss_type, label_smoothing, max_grad_norm, max_steps=MAX_STEPS, options=None):
    """One DPOTrainer run from the saved initial model; returns (log entries per step, trainer)."""
    data = datasets.Dataset.from_list(rows)
    with tempfile.TemporaryDirectory() as out:
        args = dpo_args(out, len(rows), loss_type, label_smoothing, max_grad_norm, max_steps, options)
        # model given as the checkpoint path: TRL loads the policy (float32) and, since ref_model is None and
        # precompute is off, a second copy of the same checkpoint as the frozen reference.
        trainer = trl.DPOTrainer(model=model_dir, args=args, train_dataset=data, processing_class=tok)
        assert trainer.ref_model is not None
        trainer.remove_callback(transformers.trainer_callback.PrinterCallback)
        trainer.train()
    steps = [e for e in trainer.state.log_history if "loss" in e and "train_runtime" not in e]
    assert [e["step"] for e in steps] == list(range(1, max_steps + 1)), steps
    return steps, trainer


def write_jsonl(path, entries):
    with open(path, "w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e, ensure_ascii=False, sort_keys=False) + "\n")


def yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_config(path, name, spec, batch_size):
    keys = [
        ("model", "../model"),
        ("data", "../pairs.jsonl"),
        ("loss", spec["loss_type"]),
        ("beta", BETA),
        ("label_smoothing", spec["label_smoothing"]),
        ("learning_rate", LEARNING_RATE),
        ("lr_scheduler", "constant"),
        ("warmup_steps", 0),
        ("batch_size", batch_size),
        ("micro_batch_size", batch_size),
        ("max_steps", MAX_STEPS),
        ("max_grad_norm", spec["max_grad_norm"]),
        ("weight_decay", WEIGHT_DECAY),
        ("adam_beta1", ADAM["adam_beta1"]),
        ("adam_beta2", ADAM["adam_beta2"]),
        ("adam_epsilon", ADAM["adam_epsilon"]),
        ("max_length", MAX_LENGTH),
        ("truncation_mode", "keep_start"),
        ("seed", SEED),
        ("logging_steps", 1),
    ] + list(spec.get("options", {}).items())
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# TRL {trl.__version__} DPOTrainer parity run '{name}', made by scripts/make_trl_trainer_fixtures.py.\n")
        f.write("# Paths are relative to this file (as dpo-ddp reads them). TRL-only settings are in run_info.json.\n")
        for k, v in keys:
            f.write(f"{k}: {yaml_value(v)}\n")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def quiet_deterministic_torch():
    """No warnings, progress bars or dataset caches; one thread and deterministic kernels (reruns reproduce)."""
    warnings.filterwarnings("ignore")
    transformers.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    datasets.disable_caching()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def main():
    quiet_deterministic_torch()

    tok = make_tokenizer()
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    model_dir = os.path.join(OUT, "model")
    make_model(model_dir, tok)
    write_jsonl(os.path.join(OUT, "pairs.jsonl"), PAIRS)
    rows = [dict(p) for p in PAIRS]
    batch_size = len(rows)
    assert batch_size == 16  # the accumulation test: --micro-batch-size 4 = 4 micro-steps

    # TRL's own preprocessing (the trainer's train_dataset after _prepare_dataset) and the reference log-probs.
    with tempfile.TemporaryDirectory() as out:
        args = dpo_args(out, batch_size, "sigmoid", 0.0, RUNS["sigmoid"]["max_grad_norm"])
        probe = trl.DPOTrainer(model=model_dir, args=args, train_dataset=datasets.Dataset.from_list(rows), processing_class=tok)
    prepared = list(probe.train_dataset)
    assert len(prepared) == batch_size, "a pair was dropped"
    tokenized = []
    for i, (row, ex) in enumerate(zip(PAIRS, prepared)):
        plain_prompt = tok(row["prompt"])["input_ids"]
        item = {
            "index": i,
            "prompt_ids": ex["prompt_ids"],
            "chosen_ids": ex["chosen_ids"],
            "rejected_ids": ex["rejected_ids"],
            "prompt_tokens_dropped": len(plain_prompt) - len(ex["prompt_ids"]),
        }
        assert 5 <= len(plain_prompt) <= 40, (i, len(plain_prompt))
        for side in ("chosen_ids", "rejected_ids"):
            assert 3 <= len(ex[side]) <= 30, (i, side, len(ex[side]))
            assert ex[side][-1] == tok.eos_token_id and ex[side].count(tok.eos_token_id) == 1
            assert len(ex["prompt_ids"]) + len(ex[side]) <= MAX_LENGTH
        tokenized.append(item)
    assert tokenized[0]["prompt_tokens_dropped"] == 1 and tokenized[1]["prompt_tokens_dropped"] == 1
    with open(os.path.join(OUT, "tokenized.json"), "w", encoding="utf-8") as f:
        json.dump({
            "trl_version": trl.__version__, "transformers_version": transformers.__version__,
            "max_length": MAX_LENGTH, "truncation_mode": "keep_start", "eos_token_id": tok.eos_token_id,
            "pad_token_id": tok.pad_token_id, "pairs": tokenized,
        }, f, separators=(",", ":"))

    batch = probe.data_collator([{k: ex[k] for k in ("prompt_ids", "chosen_ids", "rejected_ids")} for ex in prepared])
    ref_chosen, ref_rejected = probe.compute_ref_log_probs(probe.ref_model, batch)
    completion = batch["completion_mask"].sum(dim=1).tolist()
    with open(os.path.join(OUT, "reference_logps.json"), "w", encoding="utf-8") as f:
        json.dump({
            "note": "summed completion log-probs of the initial model (= TRL's reference), one batch of all pairs",
            "pairs": [
                {"index": i, "chosen_logp": float(ref_chosen[i]), "rejected_logp": float(ref_rejected[i]),
                 "chosen_tokens": completion[i], "rejected_tokens": completion[batch_size + i]}
                for i in range(batch_size)
            ],
            "mean_chosen_logp": float(ref_chosen.mean()), "mean_rejected_logp": float(ref_rejected.mean()),
        }, f, indent=1)
    optim_name = str(probe.args.optim.value if hasattr(probe.args.optim, "value") else probe.args.optim)
    del probe

    results = {}
    for name, spec in {**RUNS, **OBJECTIVE_RUNS}.items():
        steps, trainer = train(model_dir, tok, rows, spec["loss_type"], spec["label_smoothing"], spec["max_grad_norm"],
                               options=spec.get("options"))
        results[name] = steps
        run_dir = os.path.join(OUT, name)
        os.makedirs(run_dir)
        write_jsonl(os.path.join(run_dir, "expected_metrics.jsonl"), steps)
        write_config(os.path.join(run_dir, "config.yaml"), name, spec, batch_size)
        opt = trainer.optimizer
        groups = [{"weight_decay": g["weight_decay"], "params": len(g["params"]), "fused": g.get("fused"),
                   "foreach": g.get("foreach"), "betas": list(g["betas"]), "eps": g["eps"]} for g in opt.param_groups]
        info = {
            "trl_version": trl.__version__, "transformers_version": transformers.__version__,
            "torch_version": torch.__version__, "loss_type": [spec["loss_type"]], "label_smoothing": spec["label_smoothing"],
            "optim": str(trainer.args.optim.value if hasattr(trainer.args.optim, "value") else trainer.args.optim),
            "optimizer_class": type(opt.optimizer if hasattr(opt, "optimizer") else opt).__name__,
            "optimizer_param_groups": groups,
            "per_device_train_batch_size": batch_size, "gradient_accumulation_steps": 1, "world_size": 1,
            "precompute_ref_log_probs": False, "disable_dropout": True, "bf16": False, "gradient_checkpointing": False,
            "max_grad_norm": spec["max_grad_norm"], "options": spec.get("options", {}),
            "clipping_active": [e["grad_norm"] > spec["max_grad_norm"] for e in steps],
            "grad_norms": [e["grad_norm"] for e in steps],
        }
        with open(os.path.join(run_dir, "run_info.json"), "w", encoding="utf-8") as f:
            json.dump(info, f, indent=1)
        del trainer

    # Self-checks.
    sig, ipo, rob = results["sigmoid"], results["ipo"], results["robust"]
    assert abs(sig[0]["loss"] - math.log(2)) < 1e-6, sig[0]["loss"]
    assert abs(rob[0]["loss"] - math.log(2)) < 1e-6, rob[0]["loss"]
    assert abs(ipo[0]["loss"] - (1 / (2 * BETA)) ** 2) < 1e-4, ipo[0]["loss"]
    for name, steps in results.items():
        assert steps[0]["rewards/margins"] == 0.0 and steps[0]["rewards/chosen"] == 0.0
        if name in OBJECTIVE_RUNS:
            continue
        clipped = sum(e["grad_norm"] > RUNS[name]["max_grad_norm"] for e in steps)
        assert clipped >= len(steps) // 2 + 1, f"{name}: clipping active on only {clipped} steps"
        assert all(e["learning_rate"] == LEARNING_RATE for e in steps)
        assert steps[-1]["rewards/margins"] > steps[0]["rewards/margins"]
    again, _ = train(model_dir, tok, rows, "sigmoid", 0.0, RUNS["sigmoid"]["max_grad_norm"])
    assert again == sig, "sigmoid run is not deterministic"
    smoothed, _ = train(model_dir, tok, rows, "sigmoid", 0.1, RUNS["sigmoid"]["max_grad_norm"], max_steps=2)
    assert smoothed == sig[:2], "label_smoothing changed the sigmoid loss: TRL applies it after all?"

    print(f"TRL {trl.__version__}, transformers {transformers.__version__}, torch {torch.__version__}; optim {optim_name}")
    print(f"{batch_size} pairs, {MAX_STEPS} steps, lr {LEARNING_RATE}, beta {BETA}")
    for name, steps in results.items():
        print(f"\n{name} (max_grad_norm {({**RUNS, **OBJECTIVE_RUNS})[name]['max_grad_norm']}):  step  loss          grad_norm     rewards/margins  rewards/chosen  logps/chosen  acc")
        for e in steps:
            print(f"      {e['step']:4d}  {e['loss']:.8f}  {e['grad_norm']:.8f}  {e['rewards/margins']:+.8f}    "
                  f"{e['rewards/chosen']:+.8f}     {e['logps/chosen']:.5f}   {e['rewards/accuracies']:.3f}")
    print("\nself-checks passed: deterministic re-run, step-1 loss log 2 (sigmoid, robust) and 25 (ipo), "
          "label_smoothing ignored by sigmoid")
    total = 0
    for dirpath, _, files in sorted(os.walk(OUT)):
        for fname in sorted(files):
            path = os.path.join(dirpath, fname)
            total += os.path.getsize(path)
            if fname.endswith((".jsonl", ".json", ".safetensors")):
                print(f"  {os.path.relpath(path, FIXTURES)}  {os.path.getsize(path)}  {sha256(path)[:16]}")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
