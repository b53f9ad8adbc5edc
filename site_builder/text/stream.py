"""The token stream both search indexes store, one token per position, positions sequential
(0, 1, 2, ...):

- a run of Han characters gives one token per character: the bigram starting there, or
  the character alone at the end of the run; a run that directly follows a number or a
  Latin word starts with one more single-character token, so "2023年" can match "2023年度";
- a run of digits, or of other letters, is one token;
- a run of anything else (space, punctuation, control characters) is a gap: one
  position with no token, except spaces and tabs between two Han characters, which are
  read through: Word and PDF exports put spaces inside sentences ("根据 上级会议"), and
  the phrase goes on (see `join_han`).

A query term is streamed the same way, minus its covered tail, and matched as a phrase of
consecutive tokens (see search/query.py): a query without a separator matches exactly the
texts that contain it as a substring (digit and Latin runs match whole).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from .chars import HAN as _HAN_CLASS
from .chars import HAN_RANGES, is_han

# Bump when the stream or the normalisation changes: every indexed document is rebuilt.
TOKENIZER_VERSION = "2"

_KIND_HAN, _KIND_DIGIT, _KIND_ALPHA, _KIND_GAP = "h", "d", "a", " "


def _kind(ch: str) -> str:
    if is_han(ch):
        return _KIND_HAN
    if ch.isdecimal():
        return _KIND_DIGIT
    if ch.isalnum():
        return _KIND_ALPHA
    return _KIND_GAP


@dataclass(frozen=True, slots=True)
class Run:
    kind: str  # "h" Han, "d" digits, "a" other letters, " " gap
    text: str
    start: int  # offset in the normalised text


# The same classes as _kind, for whole texts: Han; decimal digits; other letters and
# numbers (str.isalnum); anything else ("_" included) is a gap.
_RUN_RE = re.compile(
    f"(?P<h>[{_HAN_CLASS}]+)|(?P<d>\\d+)|(?P<a>(?:(?![{_HAN_CLASS}])[^\\W\\d_])+)|(?P<g>[\\W_]+)")
_GROUP_KIND = {"h": _KIND_HAN, "d": _KIND_DIGIT, "a": _KIND_ALPHA, "g": _KIND_GAP}


# Horizontal white space (not line breaks) between two Han characters.
_HAN_SPACE = re.compile(f"(?<=[{_HAN_CLASS}])" r"[^\S\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+" f"(?=[{_HAN_CLASS}])")


def join_han(normalized: str) -> str:
    """The text the stream reads: without the spaces and tabs between Han characters."""
    return _HAN_SPACE.sub("", normalized)


def join_han_mapped(normalized: str) -> tuple[str, list[int]]:
    """join_han, and for each character of the result its index in `normalized` (for
    marking matches in the text as written)."""
    kept = [True] * len(normalized)
    for m in _HAN_SPACE.finditer(normalized):
        kept[m.start():m.end()] = [False] * (m.end() - m.start())
    origin = [i for i, k in enumerate(kept) if k]
    return "".join(normalized[i] for i in origin), origin


def runs(normalized: str) -> list[Run]:
    return [Run(_GROUP_KIND[m.lastgroup], m.group(), m.start()) for m in _RUN_RE.finditer(normalized)]


def stream(normalized: str) -> list[str | None]:
    """The token at each position of a normalised text; None marks a gap. Every report
    goes through here for both search indexes: one pass of the run pattern, no object
    per run (after join_han)."""
    tokens: list[str | None] = []
    previous = None
    for match in _RUN_RE.finditer(join_han(normalized)):
        kind, text = match.lastgroup, match.group()
        if kind == "g":
            if tokens:
                tokens.append(None)
        elif kind == "h":
            if previous == "d" or previous == "a":  # a Han run right after a word: its first character alone too
                tokens.append(text[0])
            tokens.extend([text[i:i + 2] for i in range(len(text))])
        else:
            tokens.append(text)
        previous = kind
    while tokens and tokens[-1] is None:
        tokens.pop()
    return tokens


# The stream as numbers, for the index writers: no string per position (a fifth of the
# time of `stream`). A Han token is its first character's code point << 21 | its second's
# (0 for a character alone): the same number in every text. A gap is -1, and the k-th
# digit or Latin token of a text is -2 - k (its text is in the list returned with them).
#
# The kinds of character of _RUN_RE's runs. A character in the Han ranges that is not a
# word character (unassigned there) is both: a gap run that reaches it goes on through
# it, any other run stops before it and a Han run starts there.
_GAP, _DIGIT, _ALPHA, _HAN, _HAN_OR_GAP = 0, 1, 2, 3, 4
_CODE_KIND = {"g": _GAP, "d": _DIGIT, "a": _ALPHA, "h": _HAN}
_NOT_WORD = re.compile(r"[\W_]")


def _code_kind(ch: str) -> int:
    kind = _CODE_KIND[_RUN_RE.fullmatch(ch).lastgroup]
    return _HAN_OR_GAP if kind == _HAN and _NOT_WORD.fullmatch(ch) else kind


@cache
def _bmp_kinds():
    """The run kind (_GAP, ...) of every character of the BMP, as _RUN_RE classes them
    (surrogates: gaps, as they never reach a normalised text). Made with one pass of a
    pattern per class over all of them, not a test per character, as every process that
    normalises text makes it once."""
    import numpy as np

    cps = np.arange(0x10000, dtype="<u4")
    cps[0xD800:0xE000] = 0x20
    chars = cps.tobytes().decode("utf-32-le")

    def matching(pattern: str):  # the characters that the one-character pattern matches
        return np.frombuffer(re.sub(pattern, "\0", chars).encode("utf-32-le"), dtype="<u4") != cps
    word, digit = matching(r"[^\W_]"), matching(r"\d")
    han = np.zeros(0x10000, dtype=bool)
    for lo, hi in HAN_RANGES:
        if lo <= 0xFFFF:
            han[lo:min(hi, 0xFFFF) + 1] = True
    kinds = np.full(0x10000, _GAP, dtype=np.uint8)
    kinds[word] = _ALPHA
    kinds[digit] = _DIGIT
    kinds[han] = np.where(word[han], _HAN, _HAN_OR_GAP)
    return kinds


def stream_codes(normalized: str, offsets: bool = False):
    """`stream(normalized)` as codes (an int64 array, see above) and the texts of its
    digit and Latin tokens; `code_token` turns a code back into its token. With
    `offsets`, also where each position starts in join_han(normalized) (an int64 array).
    Vectorised: runs are where the kind of character changes, as _RUN_RE finds them."""
    import numpy as np

    normalized = join_han(normalized)
    n = len(normalized)
    if not n:
        empty = np.zeros(0, dtype=np.int64)
        return (empty, [], empty) if offsets else (empty, [])
    cps = np.frombuffer(normalized.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)
    kind = _bmp_kinds()[np.minimum(cps, 0xFFFF)]
    astral = np.flatnonzero(cps > 0xFFFF)
    if len(astral):
        kind[astral] = [_code_kind(normalized[i]) for i in astral.tolist()]
    either = np.flatnonzero(kind == _HAN_OR_GAP)
    if len(either):  # each stretch of them takes the kind of the gap before it, else is Han
        first = either[np.append(True, np.diff(either) > 1)]
        stretch = np.cumsum(np.append(True, np.diff(either) > 1)) - 1
        after_gap = (first > 0) & (kind[np.maximum(first - 1, 0)] == _GAP)
        kind[either] = np.where(after_gap, _GAP, _HAN)[stretch]
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    np.not_equal(kind[1:], kind[:-1], out=new_run[1:])
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:], n)
    run_kind = kind[starts]
    before = np.append(_GAP, run_kind[:-1])
    # a Han run right after a digit or Latin run starts with its first character alone
    lead = (run_kind == _HAN) & ((before == _DIGIT) | (before == _ALPHA))
    count = np.where(run_kind == _HAN, ends - starts + lead, 1)  # positions per run
    if run_kind[0] == _GAP:  # no gap before the first token
        count[0] = 0
    if run_kind[-1] == _GAP:  # nor after the last
        count[-1] = 0
    offset = np.cumsum(count) - count
    codes = np.full(int(count.sum()), -1, dtype=np.int64)
    han = np.flatnonzero(kind == _HAN)
    run = (np.cumsum(new_run) - 1)[han]
    second = np.zeros(len(han), dtype=np.int64)
    inner = han + 1 < ends[run]
    second[inner] = cps[han[inner] + 1]
    codes[offset[run] + lead[run] + (han - starts[run])] = (cps[han] << 21) | second
    led = np.flatnonzero(lead)
    codes[offset[led]] = cps[starts[led]] << 21
    other = np.flatnonzero((run_kind == _DIGIT) | (run_kind == _ALPHA))
    codes[offset[other]] = -2 - np.arange(len(other))
    texts = [normalized[s:e] for s, e in zip(starts[other].tolist(), ends[other].tolist())]
    if not offsets:
        return codes, texts
    where = np.repeat(starts, count)  # a gap, digit or Latin position: its run's start
    where[offset[run] + lead[run] + (han - starts[run])] = han  # a Han position: its character
    return codes, texts, where


def code_token(code: int, others: list[str]) -> str | None:
    """The token of one code of stream_codes (None for a gap)."""
    if code < 0:
        return others[-2 - code] if code < -1 else None
    second = code & 0x1FFFFF
    return chr(code >> 21) + chr(second) if second else chr(code >> 21)


def code_numbers(codes, others: list[str], known: dict[int, int], number_of: Callable[[str | None], int]):
    """An index's number for each code of one text (stream_codes), as an int32 array:
    `number_of(token)` (None: a gap) for each distinct code not in `known`, which keeps
    those that name the same token in every text (all but the text's own, below -1). An
    index writer keeps `known` across its texts: a token's text is made once, when first
    seen, not once per position."""
    import numpy as np

    distinct, inverse = np.unique(codes, return_inverse=True)
    keys = distinct.tolist()
    numbers = list(map(known.get, keys))
    if None in numbers:
        for i in [i for i, number in enumerate(numbers) if number is None]:
            numbers[i] = number_of(code_token(keys[i], others))
            if keys[i] >= -1:
                known[keys[i]] = numbers[i]
    return np.array(numbers, dtype=np.int32)[inverse].reshape(-1)


