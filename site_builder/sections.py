"""Structure of a report body: headings, their levels, and the mandated parts."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Section

_CN = "一二三四五六七八九十"
# (style, canonical rank, pattern). Ranks order the usual nesting 一、 > （一） > 1. > （1） > ①;
# a document's levels are the ranks it actually uses, renumbered from 1.
STYLES: tuple[tuple[str, int, re.Pattern[str]], ...] = tuple(
    (name, rank, re.compile(pattern))
    for name, rank, pattern in (
        ("chapter", 0, rf"第[{_CN}]{{1,3}}(?:部分|章)[、，,：:．.\s]*"),
        ("cn", 1, rf"[{_CN}]{{1,3}}\s*[、．.，,]\s*(?![{_CN}]{{1,3}}[、．.])"),
        ("cn-paren", 2, rf"[（(]\s*[{_CN}]{{1,3}}\s*[）)][、．.，,]?\s*"),
        ("cn-rparen", 2, rf"[{_CN}]{{1,3}}[）)]\s*"),
        ("num", 3, r"\d{1,2}\s*[.．、](?![\d.．])\s*"),
        ("num-paren", 4, r"[（(]\s*\d{1,2}\s*[）)][、．.，,]?\s*"),
        ("num-rparen", 4, r"\d{1,2}[）)]\s*"),
        ("circled", 5, r"[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]\s*"),
    )
)
MAX_HEADING = 50  # a heading longer than this is a numbered paragraph
_SENTENCE_END = re.compile(r"[。！？；;!?]")


@dataclass(frozen=True, slots=True)
class Heading:
    number: str
    title: str
    rest: str  # body text on the same line after the heading
    rank: int


def match_heading(line: str) -> Heading | None:
    """The heading at the start of a line, or None for a paragraph."""
    for _, rank, pattern in STYLES:
        m = pattern.match(line)
        if not m:
            continue
        body = line[m.end() :].strip()
        if not body or body[0] in "是、，。":
            return None
        end = _SENTENCE_END.search(body)
        if end is None or end.end() == len(body):
            title, rest = body.rstrip("。；;：:!！?？ "), ""
        else:
            title, rest = body[: end.start()], body[end.end() :].strip()
        if not title or len(title) > MAX_HEADING:
            return None
        return Heading(m[0].strip(), title.strip(), rest, rank)
    return None


# Mandated parts by the words of a top-level heading; checked in this order because
# 「下阶段工作措施」 is part 4 although it says 措施, and part 3's heading mentions 法治政府建设.
PART_WORDS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (3, re.compile(r"第一责任人|主要负责人|主要负责同志|主要领导|述法|党政负责人|一把手")),
    (5, re.compile(r"其他需要报告|其它需要报告|其他事项|其他情况|其它情况")),
    (2, re.compile(r"不足|存在(?:的)?问题|短板|原因|差距|薄弱|困难和问题|问题与|问题和")),
    (4, re.compile(r"下一年度|下一年|下一步|下步|下阶段|下一阶段|今后|明年|来年|安排|打算|计划|思路|展望|努力方向|工作重点")),
    (1, re.compile(r"主要举措|举措|成效|工作措施|措施|开展情况|进展|主要做法|做法|工作情况|成绩|主要工作|亮点|经验|"
                   r"完成情况|推进情况|基本情况|落实情况|工作开展|取得")),
)


def parts_of(heading: str, year: int | None = None) -> list[int]:
    """All mandated parts a top-level heading speaks of, primary first."""
    found = [part for part, pattern in PART_WORDS if pattern.search(heading)]
    if year and str(year + 1) in heading and 4 not in found:
        found.insert(0, 4)
    if 3 in found and 1 in found:
        found.remove(1)
    return found


def split_run_on(line: str) -> list[str]:
    """Split a whole report exported on one line at its top-level numbering."""
    if len(line) < 300:
        return [line]
    marks = re.compile(rf"(?<=[。；：！？!?:;\s])\s*(?=[{_CN}]{{1,3}}、|[（(][{_CN}]{{1,3}}[）)])")
    if len(marks.findall(line)) < 2:
        return [line]
    return [p.strip() for p in marks.split(line) if p.strip()]


@dataclass(frozen=True, slots=True)
class BodyLine:
    line: int
    text: str


def build_sections(
    body: list[BodyLine], year: int | None
) -> tuple[list[str], tuple[Section, ...], list[int]]:
    """(preamble paragraphs, sections, parts covered) of the body lines."""
    found: list[tuple[BodyLine, Heading]] = []
    for item in body:
        heading = match_heading(item.text)
        if heading:
            found.append((item, heading))
    ranks = sorted({h.rank for _, h in found})
    level_of = {rank: i + 1 for i, rank in enumerate(ranks)}
    by_line = {id(item): h for item, h in found}
    preamble: list[str] = []
    raw: list[tuple[Heading, int, list[str]]] = []
    for item in body:
        heading = by_line.get(id(item))
        if heading:
            raw.append((heading, item.line, [heading.rest] if heading.rest else []))
        elif raw:
            raw[-1][2].append(item.text)
        else:
            preamble.append(item.text)
    sections = []
    covered: set[int] = set()
    for heading, line, paras in raw:
        level = level_of[heading.rank]
        part = None
        if level == 1:
            parts = parts_of(heading.title, year)
            covered.update(parts)
            part = parts[0] if parts else None
        sections.append(
            Section(heading=heading.title, level=level, part=part, text="\n".join(paras), line=line,
                    number=heading.number)
        )
    return preamble, tuple(sections), sorted(covered)
