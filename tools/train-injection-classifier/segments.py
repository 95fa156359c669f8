"""Candidate instruction windows in a document, exactly as src/safety/detectors/instruction-windows.ts computes them.

Indirect injections are task instructions pasted into data (often mid-word, without punctuation). The document is cut
at line breaks, table bars and sentence ends, each piece again before a Capitalised word that follows a lower-case
letter; every run of 1..4 consecutive sub-segments (within one piece) is a window. At most MAX_WINDOWS windows.
"""
import re

PIECE = re.compile(r"[\n|]+|(?<=[.!?])\s+")
SUB = re.compile(r"(?<=[a-z,;:]) +(?=[A-Z][a-z])")
MAX_WINDOWS = 600
MAX_RUN = 4


def windows(text):
    result = []
    for piece in PIECE.split(text):
        piece = piece.strip()
        if not piece:
            continue
        parts = [part.strip() for part in SUB.split(piece) if part.strip()]
        for start in range(len(parts)):
            for length in range(1, MAX_RUN + 1):
                if start + length > len(parts):
                    break
                result.append(" ".join(parts[start:start + length]))
                if len(result) >= MAX_WINDOWS:
                    return result
    return result
