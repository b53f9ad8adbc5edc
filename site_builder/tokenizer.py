"""The one tokenizer of both search indexes, and the only module that calls the segmenter.

Normalisation: NFKC, lower case, then traditional -> simplified one character at a time
with a map taken from OpenCC's TSCharacters table (first candidate). Character by
character, so the browser can apply the very same map to a query (static/search.js) and
every normalised text keeps the length and offsets of its source.

The *stream* of a text is what both indexes store, one token per position, positions
sequential (0, 1, 2, ...):

- a run of Han characters gives one token per character: the bigram starting there, or
  the character alone at the end of the run; a run that directly follows a number or a
  Latin word starts with one more single-character token, so "2023年" can match "2023年度";
- a run of digits, or of other letters, is one token;
- a run of anything else (space, punctuation, control characters) is a gap: one
  position with no token.

A query term is streamed the same way, minus its covered tail, and matched as a phrase of
consecutive tokens. A query without a separator therefore matches exactly the texts that
contain it as a substring (digit and Latin runs match whole). One Han character alone is
matched as a prefix of the stream's tokens (Whoosh) or by its character key (the static
index).

Words (jieba, with a domain dictionary) only rank results: they never decide a match.
A report is segmented once, when it is parsed (parse_cache.analysed).
"""
from __future__ import annotations

import heapq
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import repeat
from operator import mul
from pathlib import Path

# Bump when the stream or the normalisation changes: every indexed document is rebuilt.
TOKENIZER_VERSION = "1"

MAX_QUERY_CHARS = 200  # longer queries are cut: no report sentence is that long
MAX_QUERY_TERMS = 12

HAN_RANGES = (
    (0x3007, 0x3007),  # 〇
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
# The same classes as a JavaScript regex source (kept next to the Python ranges).
HAN_JS = r"[\u3007\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u{20000}-\u{323AF}]"

# Policy terms the segmenter must keep whole.
DOMAIN_TERMS = (
    "法治政府", "法治政府建设", "放管服", "枫桥经验", "一网通办", "最多跑一次", "一网统管",
    "行政执法", "行政复议", "行政诉讼", "行政应诉", "合法性审查", "规范性文件", "公平竞争审查",
    "双随机、一公开", "双随机一公开", "三项制度", "法律顾问", "公职律师", "谁执法谁普法",
    "八五普法", "七五普法", "民法典", "营商环境", "优化营商环境", "证明事项告知承诺制",
    "第一责任人", "述法", "府院联动", "诉源治理", "矛盾纠纷", "依法行政", "综合行政执法",
    "权责清单", "法治思想", "习近平法治思想",
)

def _opencc_dictionary() -> Path:
    import opencc

    return Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"


@cache
def char_map() -> dict[str, str]:
    """Traditional -> simplified, one character to one character (OpenCC TSCharacters)."""
    table: dict[str, str] = {}
    for line in _opencc_dictionary().read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        value = values.split(" ")[0] if values else ""
        if len(key) == 1 and len(value) == 1 and key != value:
            table[key] = value
    return table


@cache
def _translation() -> dict[int, str]:
    return {ord(k): v for k, v in char_map().items()}


def is_han(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in HAN_RANGES)


def _norm_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower().translate(_translation())


# Where the compatibility characters of real reports are: Latin-1, general punctuation,
# circled numbers, Kangxi radicals, the ideographic space, enclosed and squared CJK, CJK
# compatibility ideographs, fullwidth and halfwidth forms. See _fast_table.
_FAST_RANGES = ((0xA0, 0xFF), (0x2000, 0x206F), (0x2460, 0x24FF), (0x2F00, 0x2FDF), (0x3000, 0x3000),
                (0x3200, 0x33FF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))


@cache
def _fast_table() -> dict[int, str]:
    """What normalize makes of a character alone, less the lower case: the traditional ->
    simplified map of its NFKC form, for the characters of _FAST_RANGES and of the map
    (whose characters are Han, caseless and in NFKC: a test checks)."""
    translation = _translation()
    table = {cp: unicodedata.normalize("NFKC", chr(cp)).translate(translation)
             for lo, hi in _FAST_RANGES for cp in range(lo, hi + 1)}
    return {cp: text for cp, text in table.items() if text != chr(cp)} | {
        cp: text for cp, text in translation.items() if cp not in table}


# From this many characters normalize maps a text with _fast_arrays, not str.translate.
LONG_TEXT = 256


def normalize(text: str) -> str:
    """NFKC + lower case + traditional -> simplified (characters). Mapped character by
    character first: when the result is in NFKC (nothing composes or reorders across
    characters), it is what normalising the whole text gives, a third of the time."""
    mapped = _map_long(text) if len(text) >= LONG_TEXT else None
    if mapped is None:
        mapped = text.translate(_fast_table())
    if unicodedata.is_normalized("NFKC", mapped):
        return mapped.lower()
    return unicodedata.normalize("NFKC", text).lower().translate(_translation())


@cache
def _fast_arrays():
    """_fast_table over the BMP as arrays: the code point each character maps to, and
    whether it maps to more than one character."""
    import numpy as np

    image = np.arange(0x10000, dtype="<u4")
    longer = np.zeros(0x10000, dtype=bool)
    for cp, text in _fast_table().items():
        if cp <= 0xFFFF:
            if len(text) == 1:
                image[cp] = ord(text)
            else:
                longer[cp] = True
    return image, longer


def _map_long(text: str) -> str | None:
    """text.translate(_fast_table()), as one lookup of all its code points in an array
    (0.017 s for 1,000 reports, against 0.108 s); None when a character is outside the
    BMP or maps to several (a few reports in a hundred): translate them."""
    import numpy as np

    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if int(cps.max()) > 0xFFFF:
        return None
    image, longer = _fast_arrays()
    if longer[cps].any():
        return None
    return image[cps].tobytes().decode("utf-32-le", "surrogatepass")


def normalize_mapped(text: str) -> tuple[str, list[int]]:
    """Normalise character by character; return the text and, for each of its
    characters, the index of the source character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        n = _norm_char(ch) if not ch.isascii() or ch.isupper() else ch
        out.append(n)
        origin.extend([i] * len(n))
    return "".join(out), origin


# --- the stream ------------------------------------------------------------------------

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


_HAN_CLASS = "\u3007\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\U00020000-\U000323AF"
# The same classes as _kind, for whole texts: Han; decimal digits; other letters and
# numbers (str.isalnum); anything else ("_" included) is a gap.
_RUN_RE = re.compile(
    f"(?P<h>[{_HAN_CLASS}]+)|(?P<d>\\d+)|(?P<a>(?:(?![{_HAN_CLASS}])[^\\W\\d_])+)|(?P<g>[\\W_]+)")
_HAN_WORD_RE = re.compile(f"[{_HAN_CLASS}]{{2,}}")
_GROUP_KIND = {"h": _KIND_HAN, "d": _KIND_DIGIT, "a": _KIND_ALPHA, "g": _KIND_GAP}


def runs(normalized: str) -> list[Run]:
    return [Run(_GROUP_KIND[m.lastgroup], m.group(), m.start()) for m in _RUN_RE.finditer(normalized)]


def stream(normalized: str) -> list[str | None]:
    """The token at each position of a normalised text; None marks a gap. Every report
    goes through here for both search indexes: one pass of the run pattern, no object
    per run."""
    tokens: list[str | None] = []
    previous = None
    for match in _RUN_RE.finditer(normalized):
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
    pattern per class over all of them (7 ms; a pass per character took 35 ms, which a
    one-report rebuild paid twice)."""
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


def stream_codes(normalized: str):
    """`stream(normalized)` as codes (an int64 array, see above) and the texts of its
    digit and Latin tokens; `code_token` turns a code back into its token. Vectorised:
    runs are where the kind of character changes, as _RUN_RE finds them."""
    import numpy as np

    n = len(normalized)
    if not n:
        return np.zeros(0, dtype=np.int64), []
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
    return codes, [normalized[s:e] for s, e in zip(starts[other].tolist(), ends[other].tolist())]


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


# --- queries ---------------------------------------------------------------------------

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


# --- words (ranking only) ----------------------------------------------------------------

class Segmenter:
    """jieba (jieba-rs through rjieba) with the domain dictionary. The dictionary is the one
    the rjieba package makes when it is imported (a tenth of a second), the domain words
    added to it: this module is its only user. Made once per process (see _segmenter)."""

    def __init__(self):
        import rjieba  # slow to load: only in processes that segment (a parser worker)

        self._jieba = rjieba
        for word in sorted(DOMAIN_TERMS):
            self._jieba.add_word(word, None, None)

    def words(self, normalized: str) -> list[str]:
        """Words of two or more Han characters, in order (repeats kept)."""
        han = _HAN_WORD_RE.fullmatch
        return [w for w in self._jieba.cut(normalized, False) if len(w) > 1 and han(w)]

    def cut(self, text: str) -> list[str]:
        """Every piece of `text`, words and the rest, in order (new words guessed)."""
        return self._jieba.cut(text, True)


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


# --- keywords (shown on report pages) ----------------------------------------------------

# Words nearly every report uses: as keywords they would tell one report from no other.
KEYWORD_STOP = frozenset((
    "法治", "法治政府", "法治政府建设", "建设", "政府", "工作", "推进", "加强", "开展", "落实",
    "全面", "进一步", "深入", "持续", "坚持", "提升", "报告", "年度", "情况", "主要", "存在",
    "问题", "不足", "原因", "下一步", "安排", "我镇", "我乡", "我区", "我县", "我局", "全镇",
    "全乡", "全区", "全县", "扎实", "有效", "不断", "积极", "认真", "切实", "相关", "有关",
    "我们", "行政", "强化", "学习", "法律", "依法", "街道", "乡镇", "部门", "单位",
))


@cache
def _segmenter() -> Segmenter:
    return Segmenter()


def word_ends(text: str) -> set[int]:
    """The offsets in `text` where a word ends (the cleaner splits a heading from the
    sentence run into it only there)."""
    ends, position = set(), 0
    for piece in _segmenter().cut(text):
        position += len(piece)
        ends.add(position)
    return ends


@cache
def _idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table (word -> idf) and its median, read from the jieba package's data
    file, found without importing jieba (its import alone takes a tenth of a second)."""
    import importlib.util

    from .tables import cached

    path = Path(importlib.util.find_spec("jieba").origin).parent / "analyse" / "idf.txt"
    return cached("jieba-idf", (path,), _make_idf)


def _make_idf(path: Path) -> tuple[dict[str, float], float]:
    table: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value:
            table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2]


def warm_up() -> None:
    """Load what segmenting and ranking keywords need (jieba's dictionary, the IDF table)."""
    keywords("法治政府建设年度报告")


def keywords(text: str, k: int = 8) -> tuple[str, ...]:
    """The top `k` words of a text by TF-IDF (see top_words)."""
    return top_words(words(normalize(text)), k)


def words(normalized: str) -> list[str]:
    """The words of a normalised text, as the index ranks by them."""
    return _segmenter().words(normalized)


def top_words(words: list[str], k: int = 8) -> tuple[str, ...]:
    """The top `k` of `words` by TF-IDF (jieba's IDF table), stock words left out; ties
    go to the word seen first (a Counter keeps first-seen order, nlargest is stable)."""
    counts = Counter(words)
    for stock in KEYWORD_STOP.intersection(counts):
        del counts[stock]
    idf, median = _idf()
    scores = list(map(mul, counts.values(), map(idf.get, counts, repeat(median))))
    distinct = list(counts)
    return tuple(distinct[i] for i in heapq.nlargest(k, range(len(distinct)), key=scores.__getitem__))
