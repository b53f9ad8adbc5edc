"""Sentences of a report for comparing reports: cut at sentence ends, normalised for
comparison (punctuation and spaces dropped, every digit read as 0 so a text reused with a new
year or new figures still matches) and hashed to 64 bits. site/similarity.py compares them.
"""
from __future__ import annotations

import hashlib
import re

from .chars import HAN

MIN_CHARS = 10  # shorter sentences (headings, dates, signatures) say nothing about copying;
# digits do not count towards it, so a date alone is never a sentence

_SPLIT = re.compile(r"[。！？；!?;\n]+")
_DROP = re.compile(f"[^0-9a-z{HAN}]+")
_DIGITS = str.maketrans("123456789", "000000000")


def sentences(normalized: str) -> list[str]:
    """The sentences of a text (normalised: text.normalize.normalize) that are long enough to
    count, punctuation dropped and digits read as 0, in order."""
    out = []
    for piece in _SPLIT.split(normalized):
        sentence = _DROP.sub("", piece).translate(_DIGITS)
        if len(sentence) - sentence.count("0") >= MIN_CHARS:
            out.append(sentence)
    return out


def sentence_hashes(normalized: str) -> bytes:
    """The distinct sentence hashes of a normalised text, sorted, packed as little-endian
    uint64."""
    digests = {hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest() for s in sentences(normalized)}
    return b"".join(sorted(digests))


