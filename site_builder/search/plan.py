"""How a query clause is matched against the keys of search/analysis.py (static/search.js
has the same function):

- one Han character: its CHAR key; one token: its WORD key; two tokens: their PAIR key
  (doc-level: which reports, how often, in the title or not);
- three tokens or more: the TRIPLE keys at offsets 0, 3, 6, ... and at the last three
  tokens. A report matches where the first triple occurs at (line, p) and every other at
  (line, p + its offset): the triples overlap or touch, so together they are the clause's
  tokens in a row, and that is exactly where the clause's text is.
"""
from __future__ import annotations

from dataclasses import dataclass

from .analysis import CHAR, PAIR, TRIPLE, WORD, key_text
from .query import Clause


@dataclass(frozen=True, slots=True)
class Step:
    clause: Clause
    key: str | None = None  # the doc-level key, or
    pieces: tuple[tuple[int, str], ...] = ()  # (offset, TRIPLE key) when matched by position


def plan(clause: Clause) -> Step:
    tokens = clause.tokens
    if clause.char:
        return Step(clause, key=CHAR + tokens[0])
    if len(tokens) == 1:
        return Step(clause, key=WORD + tokens[0])
    if len(tokens) == 2:
        return Step(clause, key=PAIR + key_text(tokens))
    offsets = list(range(0, len(tokens) - 2, 3))
    if offsets[-1] != len(tokens) - 3:
        offsets.append(len(tokens) - 3)
    return Step(clause, pieces=tuple((o, TRIPLE + key_text(tokens[o:o + 3])) for o in offsets))
