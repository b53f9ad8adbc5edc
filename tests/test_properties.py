"""Property-based tests (hypothesis) of the decoder, loader, cleaner, parser with page
chrome, tokenizer, query handling, highlights and escaping. The parser's own properties
(never raises on messy text or bytes, a clean report keeps every paragraph) are in
test_parse_properties.py; these add what the robustness guarantees need."""
from __future__ import annotations

import csv
import functools
import hashlib
import html
import io
import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.content import clean

from site_builder.site import datasets

from site_builder.content import read as load

from site_builder.search import query as query_
from site_builder.search import whoosh_index as si
from site_builder.search.whoosh_update import update_index
from site_builder.content.decode import DecodeError, decode_bytes
from site_builder.model import Source
from site_builder.content.parse import parse_source
from site_builder.text.chars import UNSAFE
from site_builder.render.pages import make_environment

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
FORBIDDEN = re.compile(f"[{UNSAFE}]")

# Report-like text: Chinese, numbering, punctuation, Latin, digits, and anything else.
CJK_TEXT = st.text(st.sampled_from(list("法治政府建设年度报告镇乡县区一二三四、。，；：（）()1234567890abcXYZ 　")), max_size=80)
ANY_TEXT = st.one_of(CJK_TEXT, st.text(max_size=80))


# --- decoder and loader ------------------------------------------------------------------

@FAST
@given(CJK_TEXT, st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_decoder_round_trips_every_supported_encoding(text, encoding):
    raw = text.encode(encoding)
    if not raw.strip():
        return
    decoded, found = decode_bytes(raw)
    assert decoded == text.replace("\r\n", "\n").replace("\r", "\n")
    assert found in ("utf-8", "utf-8-sig", "gb18030", "utf-16")


@FAST
@given(st.binary(max_size=600))
def test_decoder_returns_text_or_a_decode_error(raw):
    try:
        text, _ = decode_bytes(raw)
    except DecodeError as exc:
        assert exc.line >= 1 and str(exc)
    else:
        assert isinstance(text, str) and "\r" not in text


@FAST
@given(st.binary(max_size=600), st.sampled_from(["r.txt", "r.md", "r.html"]))
def test_loader_never_raises_and_never_passes_control_characters(tmp_path_factory, raw, name):
    folder = tmp_path_factory.mktemp("load")
    (folder / name).write_bytes(raw)
    source, problems = load.load_source(folder / name, name)
    if source is None:
        assert [p.path for p in problems if p.severity == "error"] == [name]
    else:
        assert not FORBIDDEN.search(source.text)
        assert source.raw == raw and source.sha256 == hashlib.sha256(raw).hexdigest()


# --- cleaner and parser ------------------------------------------------------------------

@FAST
@given(ANY_TEXT)
def test_cleaner_never_raises_and_drops_control_characters(line):
    fixed, changes = clean.repair_line(line)
    assert isinstance(fixed, str)
    assert not clean.CONTROL_RE.search(fixed)
    for kind, before, after in changes:
        assert kind and before != after
    clean.classify_line(line)
    clean.strip_spam(line)


def _first_characters(items) -> tuple[set[str], bool]:
    """The characters a match of a parsed pattern (re's own parser) can start with, and
    whether it can match the empty string; raises on what it cannot enumerate."""
    from re import _constants as K

    chars: set[str] = set()
    for op, av in items:
        if op is K.LITERAL:
            got, empty = {chr(av)}, False
        elif op is K.IN:
            assert all(o in (K.LITERAL, K.RANGE) for o, _ in av), av
            got = {chr(a) for o, a in av if o is K.LITERAL} | {
                chr(c) for o, a in av if o is K.RANGE for c in range(a[0], a[1] + 1)}
            empty = False
        elif op is K.BRANCH:
            parts = [_first_characters(alt.data) for alt in av[1]]
            got, empty = set().union(*(c for c, _ in parts)), any(e for _, e in parts)
        elif op is K.SUBPATTERN:
            got, empty = _first_characters(av[-1].data)
        elif op in (K.MAX_REPEAT, K.MIN_REPEAT):
            got, empty = _first_characters(av[2].data)
            empty = empty or av[0] == 0
        elif op is K.ASSERT:  # a lookahead consumes nothing
            got, empty = set(), True
        else:
            raise AssertionError(f"cannot enumerate {op}")
        chars |= got
        if not empty:
            return chars, False
    return chars, True


def test_the_spam_patterns_first_characters_are_exactly_those_it_checks_first():
    """SPAM_BRAND_RE looks ahead for SPAM_FIRST before trying its brands: a brand added
    to the pattern must add its first character there, or it would never match."""
    from re import _parser

    assert clean.SPAM_BRAND_RE.pattern.startswith(f"(?=[{clean.SPAM_FIRST}])(?:")
    brands = clean.SPAM_BRAND_RE.pattern[len(f"(?=[{clean.SPAM_FIRST}])"):]
    chars, empty = _first_characters(_parser.parse(brands).data)
    assert not empty and chars == set(clean.SPAM_FIRST)


CHROME = [
    "当前位置：首页 > 信息公开 > 法定主动公开内容", "【字号：大 中 小】", "打印本页 关闭窗口", "分享到：",
    "扫一扫在手机打开当前页", "网站标识码：4417000001", "粤ICP备05070829号", "浏览次数：123", "返回顶部",
    "我要纠错", "【打印】【关闭】", "主办单位：某县人民政府办公室", "今天是：2018年5月7日 星期一",
]
SPAM = ["英国威廉希尔公司"]
WORDS = ["加强", "组织", "领导", "完善", "工作", "机制", "推进", "依法", "行政", "规范", "执法", "提升",
         "服务", "健全", "制度", "落实", "责任", "群众", "矛盾", "纠纷", "化解", "宣传", "教育", "监督"]
PARAGRAPH = st.lists(st.lists(st.sampled_from(WORDS), min_size=3, max_size=10).map(lambda w: "".join(w) + "。"),
                     min_size=1, max_size=3).map("".join)
HEADINGS = ["一、主要举措和成效", "二、存在的不足和原因", "三、党政主要负责人履行推进法治建设第一责任人职责情况",
            "四、下一年度工作安排"]


@st.composite
def report_with_chrome(draw):
    place = draw(st.sampled_from(["青山镇", "白沙乡", "沙河街道", "平安县"]))
    year = draw(st.integers(2019, 2025))
    head = draw(st.lists(st.sampled_from(CHROME + SPAM), min_size=1, max_size=5, unique=True))
    tail = draw(st.lists(st.sampled_from(CHROME), max_size=4, unique=True))
    body, paragraphs = [], []
    for heading in HEADINGS:
        para = draw(PARAGRAPH)
        body += [heading, para]
        paragraphs.append(para)
    lines = head + [f"{place}{year}年法治政府建设年度报告"] + body + tail
    return "\n".join(lines), paragraphs, head + tail, year


@FAST
@given(report_with_chrome(), st.sampled_from(["txt", "md"]))
def test_removed_chrome_never_reappears_and_every_paragraph_survives(case, fmt):
    text, paragraphs, chrome, year = case
    raw = text.encode("utf-8")
    report, problems = parse_source(Source(f"r.{fmt}", fmt, raw, hashlib.sha256(raw).hexdigest(), text, "utf-8"))
    assert report is not None, problems
    published = "\n".join([report.title, report.preamble, report.text,
                           *(s.heading for s in report.sections), *(s.text for s in report.sections)])
    for line in chrome:
        assert line not in published, line
    assert "威廉希尔" not in published
    for para in paragraphs:
        assert para in report.text.split("\n")
    assert report.year == year
    removed = {c.before for c in report.changes if not c.after}
    assert all(any(line in before for before in removed) for line in chrome)  # and listed as changes


# --- tokenizer, queries, highlights ------------------------------------------------------

QUERY = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["AND", "OR", "NOT", "(", ")", "*", "?", ":", "^", "~", '"', "[", "]", "{", "}",
                              "\\", "/", "-", "+", "title:", "content:", "法治", "营商环境", "2023", "_"]),
             max_size=30).map(" ".join),
)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from search_fixtures import make_site

    site = make_site()
    path = tmp_path_factory.mktemp("whoosh") / "whoosh"
    update_index(site, path)
    return si.open_index(path)


@FAST
@given(QUERY)
def test_query_parsing_is_total_and_bounded(query):
    clauses = query_.parse_query(query)
    assert len(clauses) <= query_.MAX_QUERY_TERMS
    for clause in clauses:
        assert clause.tokens and all(clause.tokens)
        assert len(clause.text) <= query_.MAX_QUERY_CHARS


@FAST
@given(QUERY, st.sampled_from([None, 1, 2, 3, 4, 5, 9]), st.integers(-5, 50))
def test_search_never_raises_and_highlights_round_trip(index, query, part, offset):
    results = si.search(index, query, part=part, offset=max(0, offset), limit=5, facets=True)
    assert results.total >= len(results.hits)
    for hit in results.hits:
        rendered = hit.snippet_html()
        assert re.sub(r"</?mark>", "", rendered).count("<") == 0
        assert html.unescape(re.sub(r"</?mark>", "", rendered)) == "".join(t for t, _ in hit.snippet)


@FAST
@given(ANY_TEXT, st.lists(CJK_TEXT, max_size=3).map(" ".join))
def test_snippet_is_a_window_of_the_text(text, query):
    pieces = query_.snippet(text, query_.parse_query(query))
    joined = "".join(t for t, _ in pieces).strip("…")
    flat = re.sub(r"\s+", " ", text)  # an excerpt shows each run of white space as one space
    assert joined in flat or joined.replace("…", "") in flat


# --- escaping ----------------------------------------------------------------------------

class _Paragraphs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts, self.tags, self._open = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self._open = tag == "p"
        if self._open:
            self.texts.append("")

    def handle_endtag(self, tag):
        self._open = False

    def handle_data(self, data):
        if self._open:
            self.texts[-1] += data


@functools.cache
def _template():
    return make_environment().from_string(
        '<p title="{{ t }}">{{ t }}</p>{% for p in t | paragraphs %}<p>{{ p }}</p>{% endfor %}')


@FAST
@given(st.text(max_size=200).filter(lambda s: "\r" not in s and "\x00" not in s))
def test_autoescaped_text_round_trips_and_never_becomes_markup(text):
    parser = _Paragraphs()
    parser.feed(_template().render(t=text))
    parser.close()
    assert [tag for tag, _ in parser.tags] == ["p"] * len(parser.tags)
    assert parser.tags[0][1] == [("title", text)]
    expected = [text] + [p for p in text.split("\n") if p.strip()]
    assert parser.texts == expected


@FAST
@given(st.lists(st.one_of(st.text(max_size=30), st.sampled_from(["=1+1", "+SUM(A1)", "-2", "@x", "\t=x", "\r=y"])),
                min_size=1, max_size=6))
def test_csv_cells_are_never_formulas_and_round_trip(values):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([datasets.csv_cell(v) for v in values])
    (row,) = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert len(row) == len(values)
    for cell, value in zip(row, values):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell == value or (cell == "'" + value and value.startswith(("=", "+", "-", "@", "\t", "\r")))

