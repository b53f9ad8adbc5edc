"""Similar reports: which other reports share this one's sentences, and what share of them.

Each report's body is cut into sentences, normalised (NFKC, traditional -> simplified,
punctuation and spaces dropped, every digit read as 0 so a text reused with a new year or
new figures still matches) and hashed to 64 bits at parse time (`sentence_hashes`, kept in
the Report and its Summary). At build time one inverted index from hash to reports finds
every pair of reports sharing a sentence. Sentences found in more than `stock_limit(n)` reports are stock
phrases (「现将……报告如下」) and are ignored both as evidence and in the share; that limit
also bounds the pairs each sentence can produce, so the work is linear in the number of
sentences. The index is a sort of numpy arrays: no Python object per sentence.

The share of identical sentences is directional: the shared sentences over this report's
own (non-stock) sentences, so a short report copied whole into a long one shows 100%.
"""
from __future__ import annotations

import dataclasses
import numpy as np

from ..model import Entry, Site, Summary

MIN_SHARED = 2  # a single shared sentence can be chance or a quotation
MIN_SHARE = 0.05
TOP = 5  # similar reports listed per report
STOCK_MIN = 3  # in a tiny archive a sentence in more than this many reports is stock
STOCK_MAX = 50  # ... and in any archive a sentence in more than this many reports is stock
STOCK_SHARE = 0.05  # between the two, stock = found in more than this share of reports

def stock_limit(count: int) -> int:
    """A sentence found in more than this many of `count` reports is a stock phrase."""
    return max(STOCK_MIN, min(STOCK_MAX, int(count * STOCK_SHARE)))


def similar_reports(summaries: tuple[Summary, ...], top: int = TOP
                    ) -> list[tuple[tuple[int, float], ...]]:
    """For each summary, up to `top` (index of another summary, share) pairs, the most
    shared sentences first (then the higher share, then the lower index)."""
    n = len(summaries)
    result: list[tuple[tuple[int, float], ...]] = [()] * n
    if n < 2:
        return result
    hashes = np.frombuffer(b"".join(s.sentences for s in summaries), dtype="<u8")
    owner = np.repeat(np.arange(n, dtype=np.int32), [len(s.sentences) // 8 for s in summaries])
    order = np.argsort(hashes)  # the order inside a group does not change any count
    hashes, owner = hashes[order], owner[order]

    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]]) if len(hashes) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(hashes)])
    group_size = np.repeat(sizes, sizes)
    limit = stock_limit(n)
    stock = group_size > limit
    own = np.bincount(owner[~stock], minlength=n)  # each report's non-stock sentences

    keep = (group_size >= 2) & ~stock  # most sentences are in one report only: dropped here
    members, size = owner[keep], group_size[keep]
    position = np.flatnonzero(keep) - np.repeat(starts, sizes)[keep]
    firsts, seconds = [], []
    for offset in range(1, limit):
        # members of one sentence's group are contiguous: i and i+offset share it
        # exactly when i is at least `offset` places from the end of its group
        i = np.flatnonzero(position[:len(position) - offset] + offset < size[:len(size) - offset])
        if not len(i):
            break
        a, b = members[i], members[i + offset]
        firsts += [a, b]
        seconds += [b, a]
    if not firsts:
        return result
    pairs, shared = np.unique(np.concatenate(firsts).astype(np.int64) * n + np.concatenate(seconds),
                              return_counts=True)
    first, second = pairs // n, pairs % n
    share = shared / np.maximum(own[first], 1)
    ok = (shared >= MIN_SHARED) & (share >= MIN_SHARE)
    first, second, shared, share = first[ok], second[ok], shared[ok], share[ok]
    order = np.lexsort((second, -share, -shared, first))
    first, second, share = first[order], second[order], share[order]
    group_start = np.flatnonzero(np.r_[True, first[1:] != first[:-1]]) if len(first) else np.zeros(0, np.int64)
    rank = np.arange(len(first)) - np.repeat(group_start, np.diff(np.r_[group_start, len(first)]))
    listed: dict[int, list[tuple[int, float]]] = {}
    for a, b, s in zip(first[rank < top].tolist(), second[rank < top].tolist(), share[rank < top].tolist()):
        listed.setdefault(a, []).append((b, round(min(s, 1.0), 3)))
    for a, items in listed.items():
        result[a] = tuple(items)
    return result


def with_similar(site: Site) -> Site:
    """The site with every entry's `similar` filled in (entry ids, most similar first)."""
    entries = site.entries
    found = similar_reports(tuple(e.report for e in entries))
    return dataclasses.replace(site, entries=tuple(  # (an Entry made directly: replace() costs 3 times as much)
        Entry(e.report, e.id, e.place_key, e.prev_id, e.next_id, tuple((entries[i].id, share) for i, share in pairs))
        if pairs else e for e, pairs in zip(entries, found)
    ))
