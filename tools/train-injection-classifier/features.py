"""Hashed word and character n-gram features, exactly as src/safety/detectors/hashed-ngram-features.ts computes them.

Text -> NFKC, lower case, whitespace runs -> one space, first 16,000 characters. Words: runs of [a-z0-9'].
Features: "w:"+word, "b:"+word+" "+next, and "c:"+gram for character 3..5-grams of " "+text+" " where every
non-ASCII character became "#" (so that UTF-16 in JS and code points in Python agree). Each distinct feature
hashes (FNV-1a 32-bit over its UTF-8 bytes) into DIMENSION buckets; the values are presence counts per bucket, then
L1-normalised (they sum to 1), so a linear score is the mean weight of the text's features and does not grow with
its length (L2 normalisation let it grow with the square root of the number of features: long benign documents
drifted upwards).

Optional prior pseudo-feature ("p:prior", count PRIOR_MASS instead of 1, added before normalising): its share of the
mass is PRIOR_MASS / (N + PRIOR_MASS) for a text with N feature counts, so its learnt weight acts as a prior that a
short text (little evidence) falls back to and a long one washes out. Without it, L1 normalisation removed all length
information and a short text with unfamiliar words (a question about an unusual name) fell back to the head's bias,
which sat above the jailbreak threshold. The injection classifier uses it (sidecar features.prior_mass); the window
classifier does not.
"""
import math
import re
import unicodedata

DIMENSION = 1 << 17
MAX_CHARS = 16000
PRIOR_MASS = 16
PRIOR_FEATURE = "p:prior"
WORD = re.compile(r"[a-z0-9']+")
SPACE = re.compile(r"\s+")


def normalize(text):
    text = unicodedata.normalize("NFKC", text).lower()
    text = SPACE.sub(" ", text).strip()
    return text[:MAX_CHARS]


def fnv1a(string):
    value = 0x811C9DC5
    for byte in string.encode("utf-8"):
        value ^= byte
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def feature_strings(text):
    text = normalize(text)
    words = WORD.findall(text)
    features = set()
    for index, word in enumerate(words):
        features.add("w:" + word)
        if index + 1 < len(words):
            features.add("b:" + word + " " + words[index + 1])
    chars = " " + "".join(c if ord(c) < 128 else "#" for c in text) + " "
    for n in (3, 4, 5):
        for start in range(0, len(chars) - n + 1):
            features.add("c:" + chars[start:start + n])
    return features


def featurize(text, prior_mass=0):
    """Sorted bucket indices and their L1-normalised values (with the prior pseudo-feature when prior_mass > 0)."""
    buckets = {}
    for feature in feature_strings(text):
        bucket = fnv1a(feature) % DIMENSION
        buckets[bucket] = buckets.get(bucket, 0) + 1.0
    if prior_mass > 0:
        bucket = fnv1a(PRIOR_FEATURE) % DIMENSION
        buckets[bucket] = buckets.get(bucket, 0) + float(prior_mass)
    norm = sum(buckets.values()) or 1.0
    indices = sorted(buckets)
    return indices, [buckets[i] / norm for i in indices]
