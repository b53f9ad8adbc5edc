"""Words: the segmenter (jieba, through rjieba) and the keywords of a report. This is the only
module that calls the segmenter. Words only rank search results and name keywords: they
never decide a match.
"""
from __future__ import annotations

import heapq
import re
from collections import Counter
from functools import cache
from itertools import repeat
from operator import mul
from pathlib import Path

from .chars import HAN
from .normalize import normalize

_HAN_WORD_RE = re.compile(f"[{HAN}]{{2,}}")

# Policy terms the segmenter must keep whole.
DOMAIN_TERMS = (
    "法治政府", "法治政府建设", "放管服", "枫桥经验", "一网通办", "最多跑一次", "一网统管",
    "行政执法", "行政复议", "行政诉讼", "行政应诉", "合法性审查", "规范性文件", "公平竞争审查",
    "双随机、一公开", "双随机一公开", "三项制度", "法律顾问", "公职律师", "谁执法谁普法",
    "八五普法", "七五普法", "民法典", "营商环境", "优化营商环境", "证明事项告知承诺制",
    "第一责任人", "述法", "府院联动", "诉源治理", "矛盾纠纷", "依法行政", "综合行政执法",
    "权责清单", "法治思想", "习近平法治思想",
)


class Segmenter:
    """jieba (jieba-rs through rjieba) with the domain dictionary. The dictionary is the one
    the rjieba package makes when it is imported, the domain words
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
    file, found without importing jieba (only its data is needed)."""
    import importlib.util

    from .tables import table

    path = Path(importlib.util.find_spec("jieba").origin).parent / "analyse" / "idf.txt"
    idf = table("jieba-idf", path, "1", _idf_rows)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]


def _idf_rows(path: Path):
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value:
            yield word, float(value)


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

