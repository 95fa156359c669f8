"""Loads and cleans the public-domain / CC BY-SA training text in ../shared/data/corpus/.

Strips the Project Gutenberg header and footer (they carry their own licence terms), undoes the
WikiText tokenisation (` @-@ `, ` @,@ `, ` @.@ `, `<unk>`, spaces around punctuation) and drops its
`= = Heading = =` lines. Returns a list of documents per source so that a held-out slice can be cut
from the end of every source for validation.
"""
import os
import re

SOURCES = [
    ("tinyshakespeare.txt", "shakespeare"),
    ("pride-and-prejudice.txt", "gutenberg"),
    ("wizard-of-oz.txt", "gutenberg"),
    ("wikitext-2-valid.txt", "wikitext"),
]


def strip_gutenberg(text):
    start = re.search(r"\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG[^\n]*\n", text)
    if start:
        text = text[start.end():]
    end = re.search(r"\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG", text)
    if end:
        text = text[: end.start()]
    return text.replace("\ufeff", "")


def paragraphs(text, keep_lines):
    result = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        result.append(("\n" if keep_lines else " ").join(lines))
    return result


def clean_wikitext(text):
    documents = []
    current = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if re.fullmatch(r"=( =)* [^=]+ (= )*=", stripped):
            # A top-level heading "= Title =" starts a new article; "= = X = =" are section headings.
            if re.fullmatch(r"= [^=]+ =", stripped) and current:
                documents.append("\n".join(current))
                current = []
            continue
        if "<unk>" in stripped:
            stripped = stripped.replace(" <unk> ", " ").replace("<unk>", "")
        stripped = stripped.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
        stripped = re.sub(r" ([,.;:!?)\]'])", r"\1", stripped)
        stripped = re.sub(r"([(\[]) ", r"\1", stripped)
        stripped = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", stripped)
        stripped = re.sub(r'" ([^"]*?) "', r'"\1"', stripped)
        stripped = re.sub(r"\s+", " ", stripped).strip()
        if stripped:
            current.append(stripped)
    if current:
        documents.append("\n".join(current))
    return documents


def load_corpus(corpus_dir):
    """Returns {source file name: [document text, ...]}."""
    result = {}
    for name, kind in SOURCES:
        path = os.path.join(corpus_dir, name)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if kind == "gutenberg":
            text = strip_gutenberg(text)
            parts = paragraphs(text, keep_lines=False)
        elif kind == "shakespeare":
            parts = paragraphs(text, keep_lines=True)
        else:
            parts = clean_wikitext(text)
        # Group short paragraphs into documents of roughly 2,000 characters.
        documents = []
        buffer = []
        size = 0
        for part in parts:
            buffer.append(part)
            size += len(part)
            if size >= 2000:
                documents.append("\n".join(buffer))
                buffer, size = [], 0
        if buffer:
            documents.append("\n".join(buffer))
        result[name] = documents
    return result
