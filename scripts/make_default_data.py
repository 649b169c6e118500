#!/usr/bin/env python3
"""Generate the bundled preference set of the embedded default run (configs/default.yaml).

Pure Python, no downloads, deterministic from --seed. Writes TRL-standard JSON Lines rows
{"prompt": ..., "chosen": ..., "rejected": ...} to data/default/train.jsonl and eval.jsonl.

Every pair comes from one of seven template families in which the chosen completion has a
consistent property the rejected one lacks (right category, the asked answer format, ascending order, polite
and helpful, correct sum, the asked language, counting on by the asked step). The held-out
split holds out *combinations* (number sets, sums, noun/adjective pairs, request/place
pairs, questions, prompt-template/item/distractor triples), never copies of training rows: no eval
prompt+chosen+rejected triple occurs in train, and in every family but category no eval
prompt occurs in train at all.

    python3 scripts/make_default_data.py            # seed 1234, 3000 train + 300 eval
    python3 scripts/make_default_data.py --seed 7 --train 5000 --eval 500 --out /tmp/d
"""

import argparse
import json
import os
import random

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

CATEGORIES = {
    "fruit": ["apple", "banana", "mango", "pear", "cherry", "lemon"],
    "animal": ["dog", "cat", "horse", "rabbit", "tiger", "sheep"],
    "tool": ["hammer", "wrench", "saw", "drill", "shovel", "axe"],
    "colour": ["red", "blue", "green", "yellow", "purple", "brown"],
    "country": ["France", "Spain", "Japan", "Brazil", "Canada", "India"],
    "musical instrument": ["piano", "guitar", "violin", "drum", "flute", "trumpet"],
    "vehicle": ["car", "bus", "train", "bicycle", "truck", "boat"],
    "sport": ["tennis", "football", "golf", "rugby", "hockey", "cricket"],
}
# Categories whose members take no article ("Name a sport: tennis", "Name a country: Japan").
BARE = {"country", "sport", "colour"}

CATEGORY_PROMPTS = [
    "Name a {cat}:",
    "Give me an example of a {cat}.",
    "Tell me one {cat}.",
    "What is a {cat}? Give one example.",
    "Which {cat} do you like?",
]

ANTONYMS = [
    ("hot", "cold"), ("big", "small"), ("fast", "slow"), ("happy", "sad"), ("tall", "short"),
    ("light", "dark"), ("old", "young"), ("rich", "poor"), ("strong", "weak"), ("early", "late"),
    ("hard", "soft"), ("wet", "dry"), ("full", "empty"), ("loud", "quiet"), ("clean", "dirty"),
    ("open", "closed"), ("high", "low"), ("good", "bad"), ("near", "far"), ("up", "down"),
]

# Short factual questions: (question, one-word answer, full-sentence answer).
FACTS = [(f"What is the opposite of {w}?", o, f"The opposite of {w} is {o}.")
         for a, b in ANTONYMS for w, o in ((a, b), (b, a))] + [
    ("What colour is grass?", "green", "Grass is green."), ("What colour is the sky?", "blue", "The sky is blue."),
    ("What colour is snow?", "white", "Snow is white."), ("What colour is coal?", "black", "Coal is black."),
    ("What colour is a banana?", "yellow", "A banana is yellow."), ("What colour is a tomato?", "red", "A tomato is red."),
    ("What colour is milk?", "white", "Milk is white."), ("What colour is a carrot?", "orange", "A carrot is orange."),
    ("What is the capital of France?", "Paris", "The capital of France is Paris."),
    ("What is the capital of Spain?", "Madrid", "The capital of Spain is Madrid."),
    ("What is the capital of Italy?", "Rome", "The capital of Italy is Rome."),
    ("What is the capital of Japan?", "Tokyo", "The capital of Japan is Tokyo."),
    ("What is the capital of Germany?", "Berlin", "The capital of Germany is Berlin."),
    ("What is the capital of Egypt?", "Cairo", "The capital of Egypt is Cairo."),
    ("What sound does a dog make?", "woof", "A dog says woof."), ("What sound does a cat make?", "meow", "A cat says meow."),
    ("What sound does a cow make?", "moo", "A cow says moo."), ("What sound does a duck make?", "quack", "A duck says quack."),
]
SHORT_PROMPTS = ["Answer in one word: {q}", "One word only, please. {q}", "Reply with a single word. {q}"]
LONG_PROMPTS = ["Answer in a full sentence: {q}", "Please reply with a complete sentence. {q}", "Answer with a whole sentence. {q}"]
RAMBLES = [
    " Hmm, let me think. It might be {a}, but I am not sure.",
    " Well, that is a good question. I think {a}, maybe.",
    " I guess {a}? It is hard to say.",
]

# French and Spanish nouns (gender, French, Spanish) and adjectives (English, French m/f, Spanish m/f).
NOUNS = [
    ("cat", "m", "chat", "m", "gato"), ("dog", "m", "chien", "m", "perro"),
    ("house", "f", "maison", "f", "casa"), ("car", "f", "voiture", "m", "coche"),
    ("book", "m", "livre", "m", "libro"), ("table", "f", "table", "f", "mesa"),
    ("flower", "f", "fleur", "f", "flor"), ("bird", "m", "oiseau", "m", "pájaro"),
    ("door", "f", "porte", "f", "puerta"), ("hat", "m", "chapeau", "m", "sombrero"),
    ("shirt", "f", "chemise", "f", "camisa"), ("horse", "m", "cheval", "m", "caballo"),
]
ADJECTIVES = [
    ("red", "rouge", "rouge", "rojo", "roja"), ("black", "noir", "noire", "negro", "negra"),
    ("green", "vert", "verte", "verde", "verde"), ("small", "petit", "petite", "pequeño", "pequeña"),
    ("white", "blanc", "blanche", "blanco", "blanca"), ("new", "nouveau", "nouvelle", "nuevo", "nueva"),
    ("big", "grand", "grande", "grande", "grande"), ("old", "vieux", "vieille", "viejo", "vieja"),
]
FRENCH_BEFORE = {"petit", "petite", "nouveau", "nouvel", "nouvelle", "grand", "grande", "vieux", "vieil", "vieille"}

TRANSLATE_PROMPTS = [
    "Translate to {lang}: the {adj} {noun}",
    "How do you say \"the {adj} {noun}\" in {lang}?",
    "In {lang}, please: the {adj} {noun}",
]

# Requests: (request template with {x}, helpful polite answer template with {x} and {y}).
PLACES = ["station", "library", "bank", "museum", "post office", "bakery", "hospital", "park", "school", "market"]
LANDMARKS = ["the bridge", "the church", "the cinema", "the town hall", "the river", "the square", "the hotel", "the car park"]
RELATIONS = ["next to", "just past", "opposite", "behind", "near"]
REQUEST_PROMPTS = [
    "Can you tell me where the {x} is?",
    "Excuse me, how do I get to the {x}?",
    "Could you help me find the {x}, please?",
    "Where is the nearest {x}?",
    "I am lost. Which way is the {x}?",
]
POLITE_REPLIES = [
    " Of course! The {x} is {rel} {y}.",
    " Sure, happy to help. The {x} is {rel} {y}.",
    " Certainly! You will find the {x} {rel} {y}.",
    " Good question! The {x} is {rel} {y}. Have a nice day!",
    " No problem. Just walk to {y}; the {x} is {rel} it.",
]
RUDE_REPLIES = [
    " No. Find it yourself.",
    " Why should I care? Go away.",
    " Stop asking me stupid questions.",
    " Not my problem. Leave me alone.",
    " Ugh, figure it out on your own.",
    " I don't care where the {x} is.",
    " Use a map, idiot.",
    " Whatever. Ask someone else.",
]

ARITH_PROMPTS = ["What is {a} + {b}?", "{a} + {b} =", "Add {a} and {b}.", "Compute {a} plus {b}."]
SORT_PROMPTS = ["Sort in ascending order: {xs}", "Sort from smallest to largest: {xs}", "Put in order: {xs}"]
COUNT_PROMPTS = ["Count up by {s} from {n}:", "Continue counting by {s}s: {n},", "Starting at {n}, count in steps of {s}:"]


def article(word):
    return "an" if word[0].lower() in "aeiou" else "a"


def with_article(cat, item):
    return " " + item if cat in BARE else f" {article(item)} {item}"


def cat_phrase(template, cat):
    # "a {cat}" -> "an {cat}" where needed.
    text = template.format(cat=cat)
    return text.replace(f" a {cat}", f" {article(cat)} {cat}")


# ---------------------------------------------------------------------------------------------
# Families. Each returns (all candidate keys, make(key, rng) -> row). The split is over keys.
# ---------------------------------------------------------------------------------------------

def category_rows(rng):
    """Correct category member vs a member of another category."""
    rows = []
    cats = list(CATEGORIES)
    for t in CATEGORY_PROMPTS:
        for cat in cats:
            for item in CATEGORIES[cat]:
              others = rng.sample([c for c in cats if c != cat], 2)
              for other in others:
                wrong = rng.choice(CATEGORIES[other])
                key = ("category", t, cat, item, wrong)
                rows.append((key, {
                    "prompt": cat_phrase(t, cat),
                    "chosen": with_article(cat, item) + ".",
                    "rejected": with_article(other, wrong) + ".",
                }))
    return rows


def format_rows(rng):
    """The answer in the asked format (one word, or a full sentence) vs the other format or a
    hedging ramble."""
    rows = []
    for q, short, sentence in FACTS:
        word = " " + short[0].upper() + short[1:] + "."
        for t in SHORT_PROMPTS:
            for bad in (" " + sentence, rng.choice(RAMBLES).format(a=short)):
                rows.append((("format", q), {"prompt": t.format(q=q), "chosen": word, "rejected": bad}))
        for t in LONG_PROMPTS:
            for bad in (word, rng.choice(RAMBLES).format(a=short)):
                rows.append((("format", q), {"prompt": t.format(q=q), "chosen": " " + sentence, "rejected": bad}))
    return rows


def translate_rows(rng):
    """The asked language (French or Spanish) vs English or the other language."""
    rows = []
    for noun in NOUNS:
        en, fg, fr, sg, es = noun
        for adj in ADJECTIVES:
            aen, afm, aff, asm, asf = adj
            afr = afm if fg == "m" else aff
            aes = asm if sg == "m" else asf
            if fg == "m" and fr[0] in "aeiouh":
                afr = {"vieux": "vieil", "nouveau": "nouvel"}.get(afr, afr)
            fr_art = "le" if fg == "m" else "la"
            if fr[0] in "aeiouh" and afr not in FRENCH_BEFORE:
                fr_art = "l'"
            es_art = "el" if sg == "m" else "la"
            if afr in FRENCH_BEFORE:
                french = f"{fr_art} {afr} {fr}" if fr_art != "l'" else f"l'{afr} {fr}"
            else:
                french = f"l'{fr} {afr}" if fr_art == "l'" else f"{fr_art} {fr} {afr}"
            spanish = f"{es_art} {es} {aes}"
            english = f"the {aen} {en}"
            combo = (en, aen)
            for lang, good, others in (("French", french, (english, spanish)), ("Spanish", spanish, (english, french))):
              for t in TRANSLATE_PROMPTS:
                bad = rng.choice(others)
                rows.append((("translate", combo), {
                    "prompt": t.format(lang=lang, adj=aen, noun=en),
                    "chosen": " " + good[0].upper() + good[1:] + ".",
                    "rejected": " " + bad[0].upper() + bad[1:] + ".",
                }))
    return rows


def request_rows(rng):
    """A polite, helpful answer vs a curt, rude one."""
    rows = []
    for x in PLACES:
        for t in REQUEST_PROMPTS:
            for _ in range(10):
                y = rng.choice(LANDMARKS)
                rel = rng.choice(RELATIONS)
                good = rng.choice(POLITE_REPLIES).format(x=x, y=y, rel=rel)
                bad = rng.choice(RUDE_REPLIES).format(x=x)
                rows.append((("request", x, t), {"prompt": t.format(x=x), "chosen": good, "rejected": bad}))
    return rows


def arithmetic_rows(rng):
    """The correct sum of two small numbers vs a wrong one (a near miss, the digits run
    together, the product or the difference)."""
    rows = []
    for a in range(0, 10):
        for b in range(0, 10):
            s = a + b
            for t in ARITH_PROMPTS:
                for _ in range(2):
                    kind = rng.choice(["near", "concat", "product", "difference"])
                    wrong = {"near": s + rng.choice([-2, -1, 1, 2]), "concat": int(f"{a}{b}"),
                             "product": a * b, "difference": abs(a - b)}[kind]
                    if wrong == s or wrong < 0:
                        wrong = s + rng.choice([1, 2, 10])
                    rows.append((("arith", a, b), {"prompt": t.format(a=a, b=b), "chosen": f" {s}", "rejected": f" {wrong}"}))
    return rows


def sort_rows(rng):
    """The list in ascending order vs descending order or unchanged."""
    rows = []
    seen = set()
    while len(rows) < 1500:
        k = rng.choice([3, 4])
        xs = rng.sample(range(1, 30), k)
        if xs == sorted(xs):
            continue
        key = ("sort", tuple(sorted(xs)))
        if (key, tuple(xs)) in seen:
            continue
        seen.add((key, tuple(xs)))
        asc = sorted(xs)
        wrong = sorted(xs, reverse=True) if rng.random() < 0.5 else xs
        if wrong == asc:
            wrong = sorted(xs, reverse=True)
        t = rng.choice(SORT_PROMPTS)
        fmt = lambda v: ", ".join(str(n) for n in v)
        rows.append((key, {"prompt": t.format(xs=fmt(xs)), "chosen": " " + fmt(asc) + ".", "rejected": " " + fmt(wrong) + "."}))
    return rows


def count_rows(rng):
    """Counting on by the asked step vs a sequence with the wrong step."""
    rows = []
    for s in (1, 2, 3, 5, 10):
        for n in range(1, 41):
          for t in COUNT_PROMPTS:
            good = [n + s * i for i in range(1, 4)]
            ws = rng.choice([x for x in (1, 2, 3, 5, 10) if x != s])
            bad = [n + ws * i for i in range(1, 4)] if rng.random() < 0.5 else [n - s * i for i in range(1, 4)]
            rows.append((("count", s, n), {
                "prompt": t.format(s=s, n=n),
                "chosen": " " + ", ".join(map(str, good)) + ".",
                "rejected": " " + ", ".join(map(str, bad)) + ".",
            }))
    return rows


FAMILIES = [
    ("category", category_rows),
    ("format", format_rows),
    ("translate", translate_rows),
    ("request", request_rows),
    ("arithmetic", arithmetic_rows),
    ("sort", sort_rows),
    ("count", count_rows),
]


def split_family(rows, n_train, n_eval, rng):
    """Splits by key (combination): eval keys never appear in train."""
    unique = {}
    for k, row in rows:
        unique.setdefault(json.dumps(row, sort_keys=True), (k, row))
    rows = list(unique.values())
    keys = sorted({k for k, _ in rows}, key=repr)
    rng.shuffle(keys)
    by_key = {}
    for k, row in rows:
        by_key.setdefault(k, []).append(row)
    # Take eval keys until enough eval rows, the rest are train keys.
    eval_rows, train_rows, i = [], [], 0
    while len(eval_rows) < n_eval and i < len(keys):
        eval_rows.extend(by_key[keys[i]])
        i += 1
    for k in keys[i:]:
        train_rows.extend(by_key[k])
    rng.shuffle(eval_rows)
    rng.shuffle(train_rows)
    if len(train_rows) < n_train:
        raise SystemExit(f"family {rows[0][0][0]}: only {len(train_rows)} train rows for {n_train}")
    return train_rows[:n_train], eval_rows[:n_eval]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--train", type=int, default=3000, help="training pairs (default 3000)")
    ap.add_argument("--eval", type=int, default=300, help="held-out pairs (default 300)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "default"))
    args = ap.parse_args()

    rng = random.Random(args.seed)
    train, evals = [], []
    nf = len(FAMILIES)
    for i, (name, make) in enumerate(FAMILIES):
        n_train = args.train // nf + (1 if i < args.train % nf else 0)
        n_eval = args.eval // nf + (1 if i < args.eval % nf else 0)
        t, e = split_family(make(random.Random(f"{args.seed}-{name}")), n_train, n_eval, rng)
        train.extend(t)
        evals.extend(e)
    rng.shuffle(train)
    rng.shuffle(evals)

    os.makedirs(args.out, exist_ok=True)
    for name, rows in (("train.jsonl", train), ("eval.jsonl", evals)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(train)} train and {len(evals)} eval pairs to {os.path.normpath(args.out)}")


if __name__ == "__main__":
    main()
