"""Search queries: clauses that must all match, and the excerpts shown for a match.

A query is normalised (text/normalize.py), split into clauses at spaces and punctuation,
and each clause is the token stream of its text (text/stream.py), matched as a phrase.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.chars import is_han
from ..text.normalize import normalize, normalize_mapped
from ..text.stream import _KIND_ALPHA, _KIND_DIGIT, _KIND_GAP, _KIND_HAN, _kind, runs, stream

MAX_QUERY_CHARS = 200  # longer queries are cut: no report sentence is that long
MAX_QUERY_TERMS = 12

@dataclass(frozen=True, slots=True)
class Clause:
    """One part of a query that must match: consecutive tokens, or a single Han
    character (``char``: found anywhere, as a character)."""

    text: str  # the normalised query text this clause stands for
    tokens: tuple[str, ...]
    char: bool = False


def clean_query(query: str) -> str:
    """Drop control characters and cut overlong input; never raises."""
    query = "".join(ch if ch.isprintable() else " " for ch in str(query)[: MAX_QUERY_CHARS * 4])
    return query[:MAX_QUERY_CHARS]


def parse_query(query: str) -> tuple[Clause, ...]:
    """Every clause must match (AND). Whitespace and punctuation separate clauses; quotes
    are accepted and change nothing (a clause is matched as a phrase anyway)."""
    normalized = normalize(clean_query(query))
    clauses: list[Clause] = []
    seen: set[tuple[str, ...]] = set()
    for part in _split_parts(normalized):
        clause = _clause(part)
        if clause and clause.tokens not in seen:
            seen.add(clause.tokens)
            clauses.append(clause)
        if len(clauses) >= MAX_QUERY_TERMS:
            break
    return tuple(clauses)


def _split_parts(normalized: str) -> list[str]:
    parts, current = [], []
    for run in runs(normalized):
        if run.kind == _KIND_GAP:
            if current:
                parts.append("".join(current))
            current = []
        else:
            current.append(run.text)
    if current:
        parts.append("".join(current))
    return parts


def _clause(part: str) -> Clause | None:
    tokens = stream(part)
    if not tokens:
        return None
    if len(part) == 1 and is_han(part):
        return Clause(part, (part,), char=True)
    last = runs(part)[-1]
    if last.kind == _KIND_HAN:
        # The final single-character token of a trailing Han run is covered by the
        # bigram (or the leading single character) before it.
        tokens = tokens[:-1]
    return Clause(part, tuple(t for t in tokens if t is not None))


_SPACES = re.compile(r"\s+")


def summary(text: str, limit: int = 120) -> str:
    """The first characters of a text on one line."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def snippet(text: str, clauses: tuple[Clause, ...], width: int = 60) -> list[tuple[str, bool]]:
    """A window of `text` around the first match, as (piece, highlighted) pairs; every
    occurrence of a clause inside the window is highlighted."""
    normalized, origin = normalize_mapped(text)
    needles = sorted({c.text for c in clauses if c.text}, key=len, reverse=True)
    marks = [False] * len(text)
    first = None
    for needle in needles:
        start = normalized.find(needle)
        while start != -1:
            if _whole(normalized, start, needle):
                first = origin[start] if first is None else min(first, origin[start])
                end = origin[start + len(needle) - 1] + 1
                for i in range(origin[start], end):
                    marks[i] = True
            start = normalized.find(needle, start + 1)
    if first is None:
        lo, hi = 0, min(len(text), width * 2)
    else:
        lo = max(0, first - width // 2)
        hi = min(len(text), lo + width * 2)
        lo = max(0, min(lo, hi - width * 2))
    pieces: list[tuple[str, bool]] = []
    if lo > 0:
        pieces.append(("…", False))
    for i in range(lo, hi):
        ch = " " if text[i] in "\r\n\t" else text[i]
        if pieces and pieces[-1][1] == marks[i] and pieces[-1][0] != "…":
            pieces[-1] = (pieces[-1][0] + ch, marks[i])
        else:
            pieces.append((ch, marks[i]))
    if hi < len(text):
        pieces.append(("…", False))
    return pieces


def contains(normalized: str, clause: Clause) -> bool:
    """Whether a normalised text holds a clause: the same answer as matching the clause's
    tokens as a phrase in the text's stream (digit and Latin runs match whole)."""
    start = normalized.find(clause.text)
    while start != -1:
        if clause.char or _whole(normalized, start, clause.text):
            return True
        start = normalized.find(clause.text, start + 1)
    return False


def _whole(normalized: str, start: int, needle: str) -> bool:
    """Digit and Latin runs match whole: no letter/digit of the same kind continues them."""
    end = start + len(needle)
    if start > 0 and _kind(needle[0]) in (_KIND_DIGIT, _KIND_ALPHA) and _kind(normalized[start - 1]) == _kind(needle[0]):
        return False
    if end < len(normalized) and _kind(needle[-1]) in (_KIND_DIGIT, _KIND_ALPHA) and _kind(normalized[end]) == _kind(needle[-1]):
        return False
    return True


