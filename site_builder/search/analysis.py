"""What both search indexes take from a report: its searchable lines, the region of the
report each line lies in, and the keys of its token stream (text/stream.py), with where
and how often they occur.

Lines: the title, then the lines of the text (`Report.title + "\\n" + Report.text`, what a
search looks in). Regions: TITLE; 1..5, the mandated part whose section the line is in
(a subsection counts with the part above it, as `line_regions` finds them); BODY, any
other line of the text. A line break is a gap of the stream, so no clause spans two lines
and a position is a (line, offset) pair: the offset counts the line's positions only, so
an edit leaves the other lines' positions as they were.

Keys are strings that start with their kind:

- CHAR + one Han character: the report holds a token starting with it (what a
  one-character query asks);
- WORD + a token, PAIR + two consecutive tokens: doc-level keys (is it there, how often);
- TRIPLE + three consecutive tokens: kept with every position, so that a clause of three
  tokens or more is matched by the triples that cover it (search/plan.py).

Tokens are joined into a key by `key_text`. Everything is computed for a batch of
reports at once with numpy, as a shard or a segment needs it: no Python object per
position.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..model import Report
from ..text.chars import is_han
from ..text.normalize import normalize
from ..text.stream import code_token, join_han, stream_codes
from . import ranking

TITLE, BODY = 0, 6  # regions; 1..5 are the mandated parts
CHAR, WORD, PAIR, TRIPLE = "\x00", "\x01", "\x02", "\x03"  # key kinds: no token starts with them
SEPARATOR = "\x1f"


def key_text(tokens: Sequence[str]) -> str:
    """Tokens as one string: a Han bigram that continues the bigram before it (营商, 商环)
    adds its second character only, anything else follows a separator. Different token
    sequences give different strings."""
    out = [tokens[0]]
    for before, token in zip(tokens, tokens[1:]):
        if _bigram(before) and _bigram(token) and before[1] == token[0]:
            out.append(token[1])
        else:
            out += [SEPARATOR, token]
    return "".join(out)


def _bigram(token: str) -> bool:
    return len(token) == 2 and is_han(token[0]) and is_han(token[1])


def searchable_lines(report: Report) -> list[str]:
    """The title (on one line), then the lines of the text."""
    return [" ".join(report.title.splitlines())] + report.text.split("\n")


def line_regions(report: Report) -> list[int]:
    """The region of each searchable line. A section starts at the first line, after the
    previous section's, that begins with its number and heading (spaces aside); a
    section whose heading line is not found leaves its lines to the section before."""
    lines = report.text.split("\n")
    regions = [BODY] * len(lines)
    starts: list[tuple[int, int]] = []  # (line, region from there on)
    part = None
    at = 0
    for section in report.sections:
        head = _squeeze(section.number + section.heading)
        for i in range(at, min(len(lines), at + 400)):  # headings are near each other: bounded
            if head and _squeeze(lines[i][:len(head) + 40]).startswith(head):
                if section.level == 1 or section.part is not None:
                    part = section.part
                starts.append((i, part or BODY))
                at = i + 1
                break
    for (first, region), (end, _) in zip(starts, starts[1:] + [(len(lines), BODY)]):
        regions[first:end] = [region] * (end - first)
    return [TITLE] + regions


def _squeeze(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True)
class Analysis:
    """The keys of a batch of reports (documents 0..n-1, in the order given).

    Doc-level postings (kinds CHAR, WORD, PAIR), one per (key, document), sorted by key
    then document: `doc_keys` their key strings, and per posting its key (an index into
    `doc_keys`), document, occurrences in the body, whether in the title, and the mandated
    parts it occurs in (bit n-1 for part n).
    Positional occurrences (TRIPLE), sorted by key, document, place: `pos_keys`, and per
    occurrence its key, document, region, line (its number among the lines of its
    region: with the region, it names the line) and offset.
    Per document: `length`, the tokens of its body, and `norm`, its length class."""

    doc_keys: list[str]
    post_key: np.ndarray
    post_doc: np.ndarray
    post_tf: np.ndarray
    post_title: np.ndarray
    post_parts: np.ndarray
    pos_keys: list[str]
    occ_key: np.ndarray
    occ_doc: np.ndarray
    occ_line: np.ndarray
    occ_offset: np.ndarray
    occ_region: np.ndarray
    length: np.ndarray
    norm: np.ndarray

    def positional(self):
        """The positional postings, one per (key, document): the index of each one's
        first occurrence, its number of occurrences, and the two values of every
        occurrence as static_format.py encodes them (line << 3 | region, then the offset
        or its step on the same line)."""
        n = len(self.occ_key)
        key, doc = self.occ_key, self.occ_doc
        new_post = np.ones(n, dtype=bool)
        new_post[1:] = (key[1:] != key[:-1]) | (doc[1:] != doc[:-1])
        head = self.occ_line << 3 | self.occ_region
        same = np.zeros(n, dtype=bool)
        same[1:] = ~new_post[1:] & (head[1:] == head[:-1])
        step = self.occ_offset.copy()
        step[1:] -= self.occ_offset[:-1]
        values = np.empty(2 * n, dtype=np.int64)
        values[0::2] = head
        values[1::2] = np.where(same, step, self.occ_offset)
        first = np.flatnonzero(new_post)
        return first, np.diff(np.append(first, n)), values

    def codes(self) -> np.ndarray:
        """The weight code (search/ranking.py) of each doc-level posting."""
        return _code_table()[self.norm[self.post_doc], np.minimum(self.post_tf, 255)]


@dataclass(frozen=True)
class Prepared:
    """What `analyse` needs of a report: its searchable lines, normalised and joined
    (join_han) one per line, and each line's region. Kept by the static index between
    builds, so an edit does not read the rest of its shard's reports again."""

    text: str
    regions: tuple[int, ...]


def prepare(report: Report) -> Prepared:
    lines = searchable_lines(report)
    return Prepared(join_han(_normalized(lines)), tuple(line_regions(report)))


def analyse(reports: Sequence[Report | Prepared]) -> Analysis:
    """The keys of `reports` (see Analysis)."""
    docs = [r if isinstance(r, Prepared) else prepare(r) for r in reports]
    regions = np.array([region for d in docs for region in d.regions], dtype=np.int64)
    line_counts = np.array([len(d.regions) for d in docs], dtype=np.int64)
    first_line = np.cumsum(line_counts) - line_counts  # each document's first global line
    text = "\n".join(d.text for d in docs)
    codes, others, where = stream_codes(text, offsets=True)
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    newlines = np.flatnonzero(cps == 10)
    line = np.searchsorted(newlines, where, side="right")  # global line of each position
    doc = np.searchsorted(first_line, line, side="right") - 1
    # offsets count from each line's first token: a token's offset is its position in the
    # stream of its line alone
    tokens_at = np.flatnonzero(codes != -1)
    first_token = tokens_at[np.minimum(np.searchsorted(line[tokens_at], np.arange(int(line_counts.sum()))),
                                       max(len(tokens_at) - 1, 0))] if len(tokens_at) else np.zeros(0, np.int64)
    offset = np.arange(len(codes)) - (first_token[line] if len(tokens_at) else 0)
    region = regions[line]
    # a line's number among the lines of its region (0 for the title): small numbers
    line_doc = np.repeat(np.arange(len(docs)), line_counts)
    by_region = np.lexsort((np.arange(len(regions)), regions, line_doc))
    group_start = np.ones(len(regions), dtype=bool)
    group_start[1:] = (line_doc[by_region][1:] != line_doc[by_region][:-1]) | \
        (regions[by_region][1:] != regions[by_region][:-1])
    rank = np.arange(len(regions)) - np.maximum.accumulate(np.where(group_start, np.arange(len(regions)), 0))
    region_line = np.empty(len(regions), dtype=np.int64)
    region_line[by_region] = rank
    local_line = region_line[line]

    valid = codes != -1
    distinct, code_of = dense(codes + 1)  # gaps (-1) first
    distinct -= 1
    # tokens by their text (a digit or Latin token has a code of its own at each position)
    number_of: dict[str | None, int] = {}
    by_code = np.array([number_of.setdefault(code_token(c, others), len(number_of)) for c in distinct.tolist()],
                       dtype=np.int64)
    texts = list(number_of)
    bigram = [t is not None and len(t) == 2 and c >= 0 and c & 0x1FFFFF != 0
              for t, c in zip(texts, [int(distinct[i]) for i in np.unique(by_code, return_index=True)[1]])]
    token = by_code[code_of.reshape(-1)]
    size = len(texts)  # the token numbers' range (for pair and triple numbers)
    body = valid & (region != TITLE)
    length = np.bincount(doc[body], minlength=len(docs)).astype(np.int64)
    norm = np.array([ranking.length_class(n) for n in length.tolist()], dtype=np.int64)

    # CHAR keys: the first character of every token that starts with a Han one
    han = np.flatnonzero(valid & (codes >= 0))
    chars, char_of = _small_dense(codes[han] >> 21, 1 << 21)
    keys = [CHAR + chr(c) for c in chars.tolist()]
    parts = [(char_of.reshape(-1), han)]
    # WORD keys: the tokens
    at = np.flatnonzero(valid)
    words, word_of = _small_dense(token[at], size)
    parts.append((word_of.reshape(-1) + len(keys), at))
    keys += [WORD + texts[t] for t in words.tolist()]
    # PAIR keys: two consecutive tokens
    pair_at = np.flatnonzero(valid[:-1] & valid[1:])
    pairs, pair_of = dense(token[pair_at] * size + token[pair_at + 1])
    parts.append((pair_of.reshape(-1) + len(keys), pair_at))
    keys += [PAIR + _joined(texts, bigram, (p // size, p % size)) for p in pairs.tolist()]
    key = np.concatenate([k for k, _ in parts])
    at = np.concatenate([a for _, a in parts])
    post_key, post_doc, post_tf, post_title, post_parts = _postings(key, doc[at], region[at], len(docs))

    # TRIPLE keys, with positions
    triple_at = np.flatnonzero(valid[:-2] & valid[1:-1] & valid[2:])
    first, pair_index = dense(token[triple_at] * size + token[triple_at + 1])
    triples, triple_of = dense(pair_index * size + token[triple_at + 2])
    triple_of = triple_of.reshape(-1)
    pos_keys = []
    for t in triples.tolist():
        a, b = divmod(int(first[t // size]), size)
        pos_keys.append(TRIPLE + _joined(texts, bigram, (a, b, t % size)))
    order = stable_order(triple_of)  # by key, then in text order
    sel = triple_at[order]
    return Analysis(keys, post_key, post_doc, post_tf, post_title, post_parts,
                    pos_keys, triple_of[order], doc[sel], local_line[sel], offset[sel], region[sel],
                    length, norm)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """np.argsort(keys, kind="stable") for non-negative int64 keys, in passes over 16-bit
    digits (numpy sorts 16-bit keys by radix, several times faster than int64 keys)."""
    keys = np.asarray(keys, dtype=np.int64)
    order = np.arange(len(keys))
    top = int(keys.max(initial=0))
    shift = 0
    while True:
        digit = ((keys[order] >> shift) & 0xFFFF).astype(np.uint16)
        order = order[np.argsort(digit, kind="stable")]
        shift += 16
        if not top >> shift:
            return order


def dense(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(values, return_inverse=True) for non-negative int64 values, by
    stable_order."""
    values = np.asarray(values, dtype=np.int64)
    if not len(values):
        return values, values
    order = stable_order(values)
    ordered = values[order]
    new = np.ones(len(values), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _small_dense(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """dense() of values below `size`, by counting."""
    present = np.flatnonzero(np.bincount(values, minlength=size))
    number = np.zeros(size, dtype=np.int64)
    number[present] = np.arange(len(present))
    return present, number[values]


def _joined(texts: list[str], bigram: list[bool], tokens: tuple[int, ...]) -> str:
    """key_text of consecutive tokens of a stream (by number): two bigrams in a row of
    one stream always chain."""
    out = texts[tokens[0]]
    for before, token in zip(tokens, tokens[1:]):
        out += texts[token][1] if bigram[before] and bigram[token] else SEPARATOR + texts[token]
    return out


def _normalized(lines: list[str]) -> str:
    """The lines normalised, one line each: the whole text at once, unless normalising
    made or removed a line break (then line by line)."""
    whole = normalize("\n".join(lines))
    if whole.count("\n") == len(lines) - 1:
        return whole
    return "\n".join(normalize(line).replace("\n", " ") for line in lines)


@cache
def _code_table() -> np.ndarray:
    """weight_code(tf, q) for q < CLASSES and tf < 256."""
    return np.array([[ranking.weight_code(tf, q) for tf in range(256)] for q in range(ranking.CLASSES)],
                    dtype=np.int64)


def _postings(key: np.ndarray, doc: np.ndarray, region: np.ndarray, docs: int):
    """One posting per (key, document) of occurrences: their key, document, count in the
    body, presence in the title, mandated parts (a bit mask)."""
    if not len(key):
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty, empty
    order = stable_order(key)  # then by document: occurrences come in text order
    key, doc, region = key[order], doc[order], region[order]
    new = np.ones(len(key), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (doc[1:] != doc[:-1])
    starts = np.flatnonzero(new)
    in_body = (region != TITLE).astype(np.int64)
    tf = np.add.reduceat(in_body, starts)
    title = np.maximum.reduceat((region == TITLE).astype(np.int64), starts)
    bit = np.where((region >= 1) & (region <= 5), np.left_shift(1, np.clip(region - 1, 0, 4)), 0)
    mask = np.bitwise_or.reduceat(bit.astype(np.int64), starts)
    return key[starts], doc[starts], tf, title, mask
