"""Properties of the parser over generated inputs (hypothesis)."""
from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from site_builder.content.decode import DecodeError, decode_bytes
from site_builder.model import Source
from site_builder.content.parse import parse_source

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def source(text: str, fmt: str, raw: bytes | None = None) -> Source:
    raw = text.encode("utf-8", "surrogatepass") if raw is None else raw
    return Source(f"p.{fmt}", fmt, raw, hashlib.sha256(raw).hexdigest(), text, "utf-8")


def assert_clean_outcome(result) -> None:
    report, problems = result
    assert isinstance(problems, tuple)
    # No unexpected exception was turned into a problem: every failure is a known one.
    assert not any("cannot parse:" in p.message for p in problems), problems
    if report is None:
        assert any(p.severity == "error" for p in problems)
    else:
        assert report.title and report.text.strip()
        for section in report.sections:
            assert 1 <= section.level <= 8 and section.part in (None, 1, 2, 3, 4, 5)


# Text that mixes what real captures contain: CJK, numbering, labels, markup, brands, junk.
PIECES = st.sampled_from([
    "一、", "（一）", "(二)", "1.", "2、", "（1）", "①", "一是", "第一部分", "\n", "\n\n", "：", "。", "，",
    "索引号：", "发布日期：2024-03-28", "来源：", "当前位置：首页 > ", "2023年", "（2021—2025年）", "〔2019〕",
    "法治政府建设", "年度报告", "关于", "镇", "县", "人民政府", "中共", "委员会", "XX", "**", "(略)", "锟斤拷",
    "?。ㄒ唬?", "鎮(zhèn)", "qiáng)", "英国威廉希尔公司", "<p>", "</div>", "&nbsp;", "\u202e", "\x00", "\ufeff",
    "---\n", "title: ", "# ", "主送：", "抄送：", "2024年1月11日", "二〇二四年一月十一日", " ", "\u3000",
])
MESSY = st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=60).map("".join)


@FAST
@given(MESSY, st.sampled_from(["txt", "md", "html"]))
def test_never_raises_on_messy_text(text, fmt):
    assert_clean_outcome(parse_source(source(text, fmt)))


@FAST
@given(st.binary(max_size=400), st.sampled_from(["txt", "md", "html"]))
def test_never_raises_on_any_bytes(raw, fmt):
    try:
        text, encoding = decode_bytes(raw)
    except DecodeError:
        return  # refused by the loader with a clear message; nothing reaches the parser
    assert_clean_outcome(parse_source(source(text, fmt, raw)))


# A clean report: ordinary sentences under the usual headings.
WORDS = ["加强", "组织", "领导", "完善", "工作", "机制", "深入", "推进", "依法", "行政", "规范", "执法", "行为",
         "提升", "服务", "水平", "健全", "制度", "落实", "责任", "群众", "矛盾", "纠纷", "化解", "宣传", "教育",
         "干部", "学习", "法律", "顾问", "决策", "程序", "监督", "公开", "信息", "治理", "能力", "基层"]
SENTENCE = st.lists(st.sampled_from(WORDS), min_size=3, max_size=14).map(lambda w: "".join(w) + "。")
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=4).map("".join)
HEADINGS = ["上一年度推进法治政府建设的主要举措和成效", "存在的不足和原因",
            "党政主要负责人履行推进法治建设第一责任人职责情况", "下一年度推进法治政府建设的主要安排"]
NUMBERS = "一二三四"


@st.composite
def clean_report(draw):
    year = draw(st.integers(2018, 2025))
    place = draw(st.sampled_from(["青山镇", "白沙乡", "沙河街道", "平安县", "城南区"]))
    lines = [f"{place}{year}年法治政府建设年度报告", draw(PARAGRAPH)]
    paragraphs = [lines[1]]
    for i, heading in enumerate(draw(st.lists(st.sampled_from(HEADINGS), min_size=1, max_size=4, unique=True))):
        lines.append(f"{NUMBERS[i]}、{heading}")
        for k in range(draw(st.integers(0, 2))):
            lines.append(f"（{NUMBERS[k]}）{draw(st.sampled_from(WORDS))}{draw(st.sampled_from(WORDS))}")
            para = draw(PARAGRAPH)
            lines.append(para)
            paragraphs.append(para)
    sep = draw(st.sampled_from(["\n", "\n\n", "\n\u3000\u3000"]))
    return sep.join(lines), paragraphs, year, place


@FAST
@given(clean_report())
def test_clean_report_keeps_every_paragraph(case):
    text, paragraphs, year, place = case
    report, problems = parse_source(source(text, "txt"))
    assert report is not None, problems
    for para in paragraphs:
        assert para in report.text.split("\n")
    assert report.year == year and report.place == place
    assert not report.title_derived
    assert not [c for c in report.changes if c.kind in ("spam", "chrome", "aggregator")]


# ---------------------------------------------------------------- linear time
# Crafted inputs that made patterns backtrack (runs of spaces before a signature, of `*`,
# `，`, `在`, `[`, `*a `, repeated administrative characters, unmatched or unclosed tags,
# `<a` runs): each page of 20–50 KB must parse in well under a second.
TITLE = "青山镇2023年法治政府建设年度报告\n"
PART = "一、主要举措和成效\n全年开展检查三十次。\n"


SIZE = 40_000  # bytes of each crafted run


def _run(unit: str) -> str:
    """`unit` repeated to SIZE bytes of UTF-8."""
    return unit * (SIZE // len(unit.encode("utf-8")))


def _adversarial() -> dict[str, tuple[str, str]]:
    txt = {
        "spaces-before-signature": TITLE + PART + _run(" ") + "青山镇人民政府 2024年1月1日x",
        "nbsp-before-signature": TITLE + PART + _run("\u00a0") + "2024年1月1日",
        "spaces-in-a-date": TITLE + PART + "2024" + _run(" ") + "年1月",
        "stars": TITLE + PART + _run("*"),
        "stars-in-a-title": "青山镇" + _run("*") + "年法治政府建设年度报告\n" + PART,
        "commas": TITLE + PART + "在" + _run("，"),
        "zai": TITLE + _run("在") + "\n" + PART,
        "brackets": TITLE + _run("[") + "\n" + PART,
        "star-a": TITLE + _run("*a ") + "\n" + PART,
        "administrative-title": _run("县区市镇乡") + "法治政府建设年度报告x\n" + PART,
        "county-names": _run("青山县") + "x\n" + PART,
        "issuer-names": _run("中共青山镇委员会 ") + "\n" + PART,
        "bracket-labels": _run("[ 索引号 ] ") + "\n" + PART,
        "cc": TITLE + PART + "主送：" + _run("，"),
        "markup": TITLE + _run("<a ") + "\n" + PART,
        "short-lines": TITLE + _run("镇\n") + PART,
        "bullets": TITLE + _run("• 法制\n") + PART,
        "one-line-export": _run("法治政府建设 "),
        "gloss": TITLE + _run("镇(") + "\n" + PART,
    }
    html = {
        "html-a-run": _run("<a"),
        "html-unmatched-end-tags": _run("</div>") + "<p>" + TITLE + PART + "</p>",
        "html-deep-nesting": _run("<div>") + "<p>" + TITLE + PART + "</p>",
        "html-nbsp-before-signature": "<p>" + TITLE + PART + _run("&nbsp;") + "2024年1月1日x</p>",
    }
    md = {"md-emphasis": _run("*a") + "\n" + PART, "md-links": _run("[") + "\n" + PART}
    return {**{k: (v, "txt") for k, v in txt.items()}, **{k: (v, "html") for k, v in html.items()},
            **{k: (v, "md") for k, v in md.items()}}


def test_crafted_pages_parse_in_linear_time():
    import time

    parse_source(source(TITLE + PART, "txt"))  # the cleaner's tables are loaded once, not timed
    slow = {}
    for name, (text, fmt) in _adversarial().items():
        assert 20_000 <= len(text.encode("utf-8")) <= 50_000, name
        start = time.perf_counter()
        result = parse_source(source(text, fmt))
        elapsed = time.perf_counter() - start
        assert_clean_outcome(result)
        if elapsed > 1.0:
            slow[name] = round(elapsed, 2)
    assert not slow, slow
