"""Builds models/guards/english-words.txt: the 20,000 most frequent lower-case words of the training corpora
(WikiText-2 valid, Pride and Prejudice, Dorothy and the Wizard in Oz) plus the dev benign instructions' training part.
Used by the adversarial-suffix detector's out-of-vocabulary feature. Run: /usr/bin/python3 make_wordlist.py"""
import collections
import json
import os
import re

from split import is_held_back

DATA = os.environ.get("REIN_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
OUT = os.path.join(os.path.dirname(__file__), "../../models/guards/english-words.txt")
counts = collections.Counter()
for name in ["wikitext-2-valid.txt", "pride-and-prejudice.txt", "wizard-of-oz.txt", "tinyshakespeare.txt"]:
    with open(os.path.join(DATA, "corpus", name), encoding="utf-8", errors="replace") as handle:
        counts.update(re.findall(r"[a-z]+", handle.read().lower()))
with open(os.path.join(DATA, "safety-dev", "benign-instructions.jsonl")) as handle:
    for line in handle:
        text = json.loads(line)["text"]
        if not is_held_back(text):
            counts.update(re.findall(r"[a-z]+", text.lower()))
words = [word for word, count in counts.most_common(20000) if count >= 3]
with open(OUT, "w") as handle:
    handle.write("\n".join(sorted(words)) + "\n")
print(len(words))
