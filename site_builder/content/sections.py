"""Structure of a report body: headings, their levels, and the mandated parts."""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..model import Section, Table

_CN = "一二三四五六七八九十"
# (style, canonical rank, pattern). Ranks order the usual nesting 一、 > （一） > 1. > （1） > ①;
# a document's levels are the ranks it actually uses, renumbered from 1.
STYLES: tuple[tuple[str, int, re.Pattern[str]], ...] = tuple(
    (name, rank, re.compile(pattern))
    for name, rank, pattern in (
        ("chapter", 0, rf"第[{_CN}]{{1,3}}(?:部分|章)[、，,：:．.\s]*"),
        ("cn", 1, rf"[{_CN}]{{1,3}}\s*[、．.，,]\s*(?![{_CN}]{{1,3}}[、．.])"),
        ("cn", 1, rf"[{_CN}]{{1,3}}\s*[．.]\s*"),
        ("cn-paren", 2, rf"[（(]\s*[{_CN}]{{1,3}}\s*[）)][、．.，,]?\s*"),
        ("cn-paren", 2, rf"[{_CN}]{{1,3}}[）)]\s*"),
        ("num-dot", 3, r"\d{1,2}\s*[.．](?:(?=\d{4}\s*年)|(?![\d.．%]))\s*"),
        ("num-comma", 3, r"\d{1,2}\s*、\s*"),
        ("num-paren", 4, r"[（(]\s*\d{1,2}\s*[）)][、．.，,]?\s*"),
        ("num-paren", 4, r"\d{1,2}[）)]\s*"),
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
    style: str = ""


def match_heading(line: str) -> Heading | None:
    """The heading at the start of a line, or None for a paragraph."""
    for style, rank, pattern in STYLES:
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
        return Heading(m[0].strip(), title.strip(), rest, rank, style)
    return None


def bare_heading(line: str) -> Heading | None:
    """A part heading printed without a number (「存在的不足和原因」 on its own line)."""
    text = line.strip()
    if (len(text) > 45 or re.search(r"[。；！？!?：:]", text) or re.search(r"(?:报告|总结|汇报)$", text)
            or re.match(r"[一二三四五六七八九十]是|我|在|经|通过", text) or not _names_part(text)):
        return None
    return Heading("", text, "", 1, "bare")


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
    marks = re.compile(rf"(?<=[。；：！？!?:;\s])(?=[{_CN}]{{1,3}}、|[（(][{_CN}]{{1,3}}[）)])")
    if len(marks.findall(line)) < 2:
        return [line]
    return [p.strip() for p in marks.split(line) if p.strip()]


_CN_VALUE = {c: i for i, c in enumerate(_CN, 1)}


def number_value(number: str) -> int:
    """「（十二）」 -> 12, 「3.」 -> 3, 「②」 -> 2."""
    digits = re.sub(r"\D", "", number)
    if digits:
        return int(digits)
    circled = re.search("[①-⑳]", number)
    if circled:
        return ord(circled[0]) - ord("①") + 1
    cn = re.sub(f"[^{_CN}]", "", number)
    if not cn:
        return 0
    if "十" in cn:
        tens, _, ones = cn.partition("十")
        return (_CN_VALUE.get(tens, 1) if tens else 1) * 10 + _CN_VALUE.get(ones, 0)
    return _CN_VALUE.get(cn[-1], 0)


PART_HEADING = re.compile(
    r"上一年度|下一年度|\d{4}\s*年度?|举措|成效|措施|开展情况|不足|问题|原因|短板|第一责任人|主要负责|述法|"
    r"下一步|下阶段|工作安排|工作打算|其他需要报告"
)


def _names_part(title: str) -> bool:
    return len(title) <= 45 and PART_HEADING.search(title) is not None and bool(parts_of(title))


def _style_keys(headings: list[Heading]) -> list[tuple[int, int, int]]:
    """A sortable level key per heading: (rank, order of first appearance, depth).

    Depth handles a style nested in itself: numbering that restarts at 1 with no
    heading of a higher style in between (「1.存在的不足」「1.…」「2.…」「3.第一责任人…」)
    opens a deeper level; a number that continues an outer sequence and names a
    mandated part closes it again."""
    first: dict[str, int] = {}
    for i, h in enumerate(headings):
        first.setdefault(h.style, i)
    order = {style: (h.rank, first[style]) for style in first for h in headings if h.style == style}
    stacks: dict[str, list[int]] = {}
    last: dict[str, int] = {}
    top_named: dict[str, bool] = {}
    keys = []
    for i, h in enumerate(headings):
        n = number_value(h.number)
        stack = stacks.get(h.style)
        higher_between = stack is not None and any(
            order[headings[j].style] < order[h.style] for j in range(last[h.style] + 1, i)
        )
        if stack is None or higher_between:
            stack = stacks[h.style] = [n]
        elif _names_part(h.title) and top_named.get(h.style):
            del stack[1:]  # misnumbered top level: 「1.存在的不足」 after 「1.…」「2.…」
            stack[0] = n
        else:
            outer = next((k for k in range(len(stack) - 2, -1, -1) if n == stack[k] + 1), None)
            if outer is not None and (n != stack[-1] + 1 or parts_of(h.title)):
                del stack[outer + 1 :]
                stack[outer] = n
            elif n == 1 and stack[-1] >= 1 and len(stack) < 3:
                stack.append(1)
            else:
                stack[-1] = n
        last[h.style] = i
        if len(stack) == 1:
            top_named[h.style] = top_named.get(h.style, False) or _names_part(h.title)
        keys.append((*order[h.style], len(stack) - 1))
    return keys


@dataclass(frozen=True, slots=True)
class BodyLine:
    line: int
    text: str
    table: Table | None = None  # a table (text: its cells as lines, see Table.text): never a heading


def build_sections(
    body: list[BodyLine], year: int | None
) -> tuple[list[str], tuple[Section, ...], list[int], tuple[Table, ...]]:
    """(preamble paragraphs, sections, parts covered, tables placed in them) of the body lines."""
    found: list[tuple[BodyLine, Heading]] = []
    for item in body:
        heading = None if item.table else match_heading(item.text) or bare_heading(item.text)
        if heading:
            found.append((item, heading))
    keys = _style_keys([h for _, h in found])
    level_of = {key: i + 1 for i, key in enumerate(sorted(set(keys)))}
    by_line = {id(item): (h, key) for (item, h), key in zip(found, keys)}
    preamble: list[str] = []
    raw: list[tuple[Heading, tuple, int, list[str]]] = []
    tables: list[Table] = []
    for item in body:
        if item.table is not None:  # where it is: after the paragraphs read so far
            after = len(raw[-1][3]) if raw else len(preamble)
            tables.append(dataclasses.replace(item.table, section=len(raw), after=after))
        elif id(item) in by_line:
            heading, key = by_line[id(item)]
            raw.append((heading, key, item.line, [heading.rest] if heading.rest else []))
        elif raw:
            raw[-1][3].append(item.text)
        else:
            preamble.append(item.text)
    sections = []
    covered: set[int] = set()
    for heading, key, line, paras in raw:
        level = level_of[key]
        part = None
        if level == 1:
            parts = parts_of(heading.title, year)
            covered.update(parts)
            part = parts[0] if parts else None
        sections.append(
            Section(heading=heading.title, level=level, part=part, text="\n".join(paras), line=line,
                    number=heading.number)
        )
    return preamble, tuple(sections), sorted(covered), tuple(tables)
