"""Search queries: clauses that must all match, and the excerpts shown for a match.

A query is normalised (text/normalize.py), split into clauses at spaces and punctuation,
and each clause is the token stream of its text (text/stream.py), matched as a phrase
(search/plan.py says how). static/search.js has the same functions.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..text.chars import is_han
from ..text.normalize import normalize_mapped, normalize
from ..text.stream import _KIND_ALPHA, _KIND_DIGIT, _KIND_GAP, _KIND_HAN, _kind, join_han, join_han_mapped, runs, stream

MAX_QUERY_CHARS = 200  # longer queries are cut: no report sentence is that long
MAX_QUERY_TERMS = 12  # clauses beyond these are left out, and the user is told which


@dataclass(frozen=True, slots=True)
class Clause:
    """One part of a query that must match: consecutive tokens, or a single Han
    character (``char``: found anywhere, as a character)."""

    text: str  # the normalised query text this clause stands for
    tokens: tuple[str, ...]
    char: bool = False


@dataclass(frozen=True, slots=True)
class Parsed:
    clauses: tuple[Clause, ...]
    dropped: tuple[str, ...]  # the texts of the clauses beyond MAX_QUERY_TERMS


def clean_query(query: str) -> str:
    """Drop control characters and cut overlong input; never raises."""
    query = "".join(ch if ch.isprintable() else " " for ch in str(query)[: MAX_QUERY_CHARS * 4])
    return query[:MAX_QUERY_CHARS]


def parse(query: str) -> Parsed:
    """Every clause must match (AND). Whitespace and punctuation separate clauses; quotes
    are accepted and change nothing (a clause is matched as a phrase anyway); a clause
    given twice counts once."""
    normalized = normalize(clean_query(query))
    clauses: list[Clause] = []
    dropped: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for part in _split_parts(normalized):
        clause = _clause(part)
        if clause is None or clause.tokens in seen:
            continue
        if len(clauses) >= MAX_QUERY_TERMS:
            dropped.append(part)
            continue
        seen.add(clause.tokens)
        clauses.append(clause)
    return Parsed(tuple(clauses), tuple(dropped))


def parse_query(query: str) -> tuple[Clause, ...]:
    return parse(query).clauses


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


# --- where a clause's text is, for excerpts --------------------------------------------------

_SPACES = re.compile(r"\s+")


def summary(text: str, limit: int = 120) -> str:
    """The first characters of a text on one line."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _mapped(text: str) -> tuple[str, list[int]]:
    """The text as the stream reads it (normalised, join_han), and for each of its
    characters the index of the character of `text` it came from (plus the end)."""
    normalized, origin = normalize_mapped(text)
    joined, kept = join_han_mapped(normalized)
    return joined, [origin[i] for i in kept] + [len(text)]


def occurrences(joined: str, clause_text: str) -> list[tuple[int, int]]:
    """Where a clause's text is in a text as the stream reads it: a digit or Latin run at
    the clause's edge matches whole runs only."""
    found, start = [], joined.find(clause_text)
    while start != -1:
        if _whole(joined, start, clause_text):
            found.append((start, start + len(clause_text)))
        start = joined.find(clause_text, start + 1)
    return found


def contains(text: str, clause: Clause) -> bool:
    """Whether a text (normalised) holds a clause, as matching its tokens in the text's
    stream answers."""
    joined = join_han(text)
    return bool(occurrences(joined, clause.text)) if not clause.char else clause.text in joined


EXCERPT_BEFORE, EXCERPT_CHARS = 24, 100
_RUN_BACK = 8  # characters an excerpt may start earlier to show a number whole
_SENTENCE_END = set("。！？；!?;\n")


def snippet(text: str, clauses: Iterable[Clause], width: int | None = None, whole: bool = False
            ) -> list[tuple[str, bool]]:
    """A window of `text` around its first match as (piece, highlighted) pairs, every
    occurrence of a clause in it marked (all of `text` when `whole`: a title). The
    window starts after the end of a sentence when one is near before the match, and
    never inside a run of digits or Latin letters; the text's beginning when nothing
    matches. static/search.js cuts the same excerpts."""
    chars = EXCERPT_CHARS if width is None else 2 * width
    before = EXCERPT_BEFORE if width is None else width // 2
    joined, origin = _mapped(text)
    marks = sorted((m for c in clauses for m in occurrences(joined, c.text)), key=lambda m: (m[0], -m[1]))
    n = len(joined)
    start, end = 0, n
    if not whole:
        if marks:
            first = marks[0][0]
            start = max(0, first - before)
            for i in range(first - 1, start - 1, -1):
                if joined[i] in _SENTENCE_END:
                    start = i + 1
                    break
            if 0 < start < first and _kind(joined[start]) in (_KIND_DIGIT, _KIND_ALPHA):
                # inside a number or word: from its start when near, else after its end
                run_start, run_end = start, start
                while run_start > 0 and _kind(joined[run_start - 1]) == _kind(joined[start]):
                    run_start -= 1
                while run_end < first and _kind(joined[run_end]) == _kind(joined[start]):
                    run_end += 1
                start = run_start if start - run_start <= _RUN_BACK else run_end
            while start < first and joined[start].isspace():
                start += 1
        end = min(n, start + chars)
    pieces: list[tuple[str, bool]] = []

    def emit(a: int, b: int, marked: bool) -> None:
        if b <= a:
            return
        piece = _SPACES.sub(" ", text[origin[a]:origin[b]])
        if pieces and pieces[-1][1] == marked and pieces[-1][0] != "…":
            pieces[-1] = (pieces[-1][0] + piece, marked)
        else:
            pieces.append((piece, marked))
    at = start
    for a, b in marks:
        if b <= at or a >= end:
            continue
        emit(at, max(at, a), False)
        emit(max(at, a), min(b, end), True)
        at = min(b, end)
    emit(at, end, False)
    if start > 0:
        pieces.insert(0, ("…", False))
    if end < n:
        pieces.append(("…", False))
    return pieces


def original_script(text: str, script: str, changes: Iterable) -> tuple[str, bool]:
    """A traditional report's text with its lines as they were before the cleaner made
    them simplified (its "t2s" changes), where a line is unchanged since and of the same
    length; and whether any line is. Excerpts cut from it show the original's script."""
    if script != "traditional":
        return text, False
    before = {c.after: c.before for c in changes if c.kind == "t2s" and len(c.before) == len(c.after)}
    lines = text.split("\n")
    restored = [before.get(line, line) for line in lines]
    return "\n".join(restored), any(a != b for a, b in zip(lines, restored))


def _whole(normalized: str, start: int, needle: str) -> bool:
    """Digit and Latin runs match whole: no letter/digit of the same kind continues them."""
    end = start + len(needle)
    if start > 0 and _kind(needle[0]) in (_KIND_DIGIT, _KIND_ALPHA) and _kind(normalized[start - 1]) == _kind(needle[0]):
        return False
    if end < len(normalized) and _kind(needle[-1]) in (_KIND_DIGIT, _KIND_ALPHA) and _kind(normalized[end]) == _kind(needle[-1]):
        return False
    return True
