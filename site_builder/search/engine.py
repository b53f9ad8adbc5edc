"""The search itself, over any store of the keys of search/analysis.py: match every
clause (search/plan.py), keep the reports that match them all, rank them
(search/ranking.py). The Whoosh index (whoosh_index.py) answers through this module;
static/search.js does the same over the static index's files.

Arrays all along (numpy): no Python object per matching report, and only the page shown
is sorted in full (`best`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from . import ranking
from .analysis import TITLE
from .plan import plan
from .query import Clause


@dataclass(frozen=True)
class DocRecord:
    """A doc-level key: per report holding it (by ascending number) its weight code,
    whether in the title, its mandated parts (bit n - 1: part n)."""

    numbers: np.ndarray
    codes: np.ndarray
    title: np.ndarray
    parts: np.ndarray


@dataclass(frozen=True)
class PosRecord:
    """A positional key: per report (by ascending number) its length class, and its
    occurrences first[d]:first[d + 1] of the (line, offset, region) arrays; `lines`
    names a line of the report (static_format.py's line << 3 | region)."""

    numbers: np.ndarray
    norms: np.ndarray
    first: np.ndarray
    lines: np.ndarray
    offsets: np.ndarray
    regions: np.ndarray


class Source(Protocol):
    reports: int  # N of idf

    def doc_record(self, key: str) -> DocRecord | None: ...

    def pos_record(self, key: str) -> PosRecord | None: ...


@dataclass(frozen=True)
class Matched:
    """What a clause matched, by ascending number: weight codes, title flags, parts."""

    numbers: np.ndarray
    codes: np.ndarray
    title: np.ndarray
    parts: np.ndarray


_EMPTY = Matched(*(np.zeros(0, np.int64) for _ in range(4)))


def match(source: Source, clause: Clause) -> Matched:
    step = plan(clause)
    if step.key is not None:
        found = source.doc_record(step.key)
        if found is None:
            return _EMPTY
        return Matched(found.numbers, found.codes, found.title, found.parts)
    records = [source.pos_record(key) for _, key in step.pieces]
    if any(r is None or not len(r.numbers) for r in records):
        return _EMPTY
    lead = records[0]
    common = lead.numbers
    for other in records[1:]:
        common = np.intersect1d(common, other.numbers, assume_unique=True)
    if not len(common):
        return _EMPTY
    # the lead piece's occurrences in the reports that hold every piece
    rows = np.searchsorted(lead.numbers, common)
    doc, line, offset, region = _occurrences(lead, rows)
    ok = np.ones(len(doc), dtype=bool)
    for (shift, _), other in zip(step.pieces[1:], records[1:]):
        o_doc, o_line, o_offset, _ = _occurrences(other, np.searchsorted(other.numbers, common))
        ok &= np.isin(_key(doc, line, offset + shift), _key(o_doc, o_line, o_offset))
    doc, region = doc[ok], region[ok]
    if not len(doc):
        return _EMPTY
    body = region != TITLE
    tf = np.bincount(doc[body], minlength=len(common))
    title = np.bincount(doc[~body], minlength=len(common)) > 0
    bit = np.where((region >= 1) & (region <= 5), np.left_shift(1, np.clip(region - 1, 0, 4)), 0)
    parts = np.zeros(len(common), np.int64)
    np.bitwise_or.at(parts, doc, bit)
    keep = np.flatnonzero((tf > 0) | title)
    norms = lead.norms[rows]
    codes = np.array([ranking.weight_code(int(t), int(q)) for t, q in zip(tf[keep], norms[keep])], dtype=np.int64)
    return Matched(common[keep], codes, title[keep].astype(np.int64), parts[keep])


def _occurrences(record: PosRecord, rows: np.ndarray):
    """(row among `rows`, line, offset, region) of every occurrence of those reports."""
    starts, ends = record.first[rows], record.first[rows + 1]
    counts = ends - starts
    doc = np.repeat(np.arange(len(rows)), counts)
    at = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    return doc, record.lines[at], record.offsets[at], record.regions[at]


def _key(doc: np.ndarray, line: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(row, line, offset) as one integer: 20, 17 and 26 bits."""
    if len(doc) and (int(doc.max()) >= 1 << 20 or int(line.max()) >= 1 << 17 or int(offset.max()) >= 1 << 26):
        raise ValueError("a report too large to match by position")
    return (doc.astype(np.int64) << 43) | (line.astype(np.int64) << 26) | offset.astype(np.int64)


@dataclass(frozen=True)
class Found:
    """The reports matching every clause (by ascending number), with their sort keys."""

    numbers: np.ndarray
    titles: np.ndarray  # clauses in the title
    score: np.ndarray  # the second key (ranking.score)
    parts: list[np.ndarray]  # per clause, the part masks of these reports


def search(source: Source, clauses: tuple[Clause, ...]) -> Found:
    matches = [match(source, c) for c in clauses]
    idfs = [ranking.idf(source.reports, len(m.numbers)) for m in matches]
    common = matches[0].numbers
    for m in matches[1:]:
        common = np.intersect1d(common, m.numbers, assume_unique=True)
    titles = np.zeros(len(common), np.int64)
    score = np.zeros(len(common), np.float64)
    parts = []
    for weight, m in zip(idfs, matches):
        rows = np.searchsorted(m.numbers, common)
        titles += m.title[rows]
        score = score + weight * m.codes[rows] / ranking.CODES  # the order of ranking.score
        parts.append(m.parts[rows])
    return Found(common, titles, score, parts)


def best(titles: np.ndarray, score: np.ndarray, tie: np.ndarray, count: int) -> np.ndarray:
    """The indexes of the best `count` (or all) in rank order: most clauses in the
    title, then the highest score, then the lowest `tie`. The others are only
    partitioned away, never sorted."""
    n = len(titles)
    if count < n:
        near = titles * 1e6 + score  # monotone in (titles, score), within rounding
        cut = np.partition(-near, count - 1)[count - 1]
        keep = np.flatnonzero(-near <= cut + 1e-6)
    else:
        keep = np.arange(n)
    order = np.lexsort((tie[keep], -score[keep], -titles[keep]))
    return keep[order][:count]
