"""Trains Rein's fallback guard language model: a character 4-gram model (3 characters of context) over a 41-symbol
alphabet, interpolated Witten-Bell smoothing, stored as a dense table of quantised log-probabilities
(models/guards/char-lm.bin: 41^4 bytes, each = round(-log p * 16) capped at 255; plus char-lm.json).
It is a real, if small, causal LM: the perplexity detectors use it when no ONNX guard model is configured.
Training text: the public-domain/CC BY-SA corpora in ../shared/data/corpus (WikiText-2 valid, the two books,
Shakespeare) and the training part of the benign instructions. Run: /usr/bin/python3 train_char_lm.py
"""
import json
import os

import numpy as np

from split import is_held_back

DATA = os.environ.get("REIN_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
OUT = os.path.join(os.path.dirname(__file__), "../../models/guards")
ALPHABET = " abcdefghijklmnopqrstuvwxyz0.,'\"-()?!:;\n#"  # '#' = anything else; digits -> '0'; '\n' = line break
SIZE = len(ALPHABET)
ORDER = 4
INDEX = {c: i for i, c in enumerate(ALPHABET)}


def encode(text):
    out = []
    for c in text.lower():
        if c.isdigit():
            c = "0"
        elif c in "\t\r":
            c = " "
        out.append(INDEX.get(c, INDEX["#"]))
    return np.array(out, dtype=np.int64)


def main():
    texts = []
    for name in ["wikitext-2-valid.txt", "pride-and-prejudice.txt", "wizard-of-oz.txt", "tinyshakespeare.txt"]:
        with open(os.path.join(DATA, "corpus", name), encoding="utf-8", errors="replace") as handle:
            texts.append(" ".join(handle.read().replace("@-@", "-").replace("@,@", ",").replace("@.@", ".").split(" ")))
    with open(os.path.join(DATA, "safety-dev", "benign-instructions.jsonl")) as handle:
        for line in handle:
            text = json.loads(line)["text"]
            if not is_held_back(text):
                texts.append(text + "\n")
    codes = encode("\n".join(texts))
    # counts[k] over (k+1)-grams, dense (SIZE ** (k+1))
    probabilities = np.full(1, 1.0 / SIZE)  # order 0: uniform, shape [SIZE^0] broadcast below
    previous = np.full((SIZE,), 1.0 / SIZE)
    for k in range(1, ORDER + 1):
        # k-gram counts: context of length k-1, next char
        index = np.zeros(len(codes) - k + 1, dtype=np.int64)
        for offset in range(k):
            index = index * SIZE + codes[offset:len(codes) - k + 1 + offset]
        counts = np.bincount(index, minlength=SIZE ** k).astype(np.float64).reshape(-1, SIZE)
        totals = counts.sum(1, keepdims=True)
        distinct = (counts > 0).sum(1, keepdims=True)
        lam = np.where(totals > 0, totals / np.maximum(totals + distinct, 1), 0.0)
        lower = previous.reshape(-1, SIZE)  # [SIZE^(k-2) contexts or 1, SIZE]
        lower = np.tile(lower, (SIZE, 1)) if k > 1 else np.tile(lower, (1, 1))
        # lower-order context = context without its first char: for context c1..c(k-1), backoff row index = context % SIZE^(k-2)
        if k > 1:
            rows = np.arange(SIZE ** (k - 1)) % (SIZE ** (k - 2))
            lower = previous.reshape(-1, SIZE)[rows]
        ml = np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)
        previous = (lam * ml + (1 - lam) * lower).reshape(-1)
        print(f"order {k}: {int((counts > 0).sum())} n-grams", flush=True)
    table = np.minimum(255, np.round(-np.log(np.maximum(previous, 1e-30)) * 16)).astype(np.uint8)
    table.tofile(os.path.join(OUT, "char-lm.bin"))
    with open(os.path.join(OUT, "char-lm.json"), "w") as handle:
        json.dump({"type": "char-ngram", "alphabet": ALPHABET, "order": ORDER, "scale": 16, "table": "char-lm.bin",
                   "training_chars": int(len(codes)), "version": "1.0.0"}, handle, indent=2)
    print("chars", len(codes))


if __name__ == "__main__":
    main()
