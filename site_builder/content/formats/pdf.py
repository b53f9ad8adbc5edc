"""PDF with a text layer, read with pdfplumber (built on pdfminer.six).

pdfplumber gives every character with its position and finds ruled tables; from those:

* the lines of each page, in reading order: a page in two columns (a clear vertical gutter
  that only a few full-width lines such as the title cross) is read column by column,
  between its full-width lines; a table is read where its top is;
* page chrome: a page number (「— 3 —」「第 3 页 共 5 页」「3/5」) or a running header or footer
  (a line at the top or bottom of the page that repeats, digits aside, on at least half
  the pages) is taken out and recorded as a change of kind "chrome";
* paragraphs: a line that runs to the right edge of its column continues on the next line
  unless that one is indented (a first-line indent), of another size, or starts a
  numbered heading after a finished sentence; a paragraph goes on across columns and pages.

The text shown as the 原文 is every line of print in that order, page after page (a
table's rows as cells separated by tabs); positions are lines of that text, and
Report.where tells a reader which page and line of the page. No OCR: a PDF with no text
(a scan) is an error that says what to do.
"""
from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field

from ...model import Change
from . import Extracted, FormatError, join_text, tables

MAX_PAGES = 500  # a report is a few dozen pages; more is not one
CHROME_BAND = 0.12  # page chrome lies in the top or bottom eighth of the page
UNMAPPED = re.compile(r"\(cid:\d+\)|[\ue000-\uf8ff\x00-\x08\x0e-\x1f]")
PAGE_NUMBER = re.compile(
    r"[-—–－_~·•\s]*\d{1,4}[-—–－_~·•\s]*"
    r"|第\s*\d{1,4}\s*页\s*(?:[,，/／]?\s*共\s*\d{1,4}\s*页)?|共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*[/／]\s*\d{1,4}|(?i:page\s*\d{1,4}(?:\s*of\s*\d{1,4})?)"
)
LIST_START = re.compile(r"[•·●○■□◆◇▪►\-–*]")
HEADING_START = re.compile(r"[一二三四五六七八九十]{1,3}[、．.]|[（(][一二三四五六七八九十\d]{1,3}[）)]|\d{1,2}[.、．]|第[一二三四五六七八九十]")
SENTENCE_END = "。！？：；!?:;"

NO_TEXT = ("PDF 没有文字层（可能是扫描件），无法提取正文；请提供文字版 PDF、Word 文件，或把正文另存为 .txt"
           "（PDF has no text layer: a scan; no OCR）")
UNMAPPED_FONTS = ("PDF 的字体缺少 Unicode 映射，提取出的文字无法识别；请用原软件重新导出 PDF，或提供 Word 文件、.txt"
                  "（PDF fonts have no Unicode map: the text cannot be read）")


@dataclass(eq=False)
class _Line:
    """A line of print (or a table) on a page, in reading order."""

    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    text: str
    column: int = 0  # 0 full width, 1 left, 2 right
    table: object = None  # a Table, for a table's place
    rows: list = field(default_factory=list)  # a table's rows as text lines
    line: int = 0  # its (first) line in the text


def read(raw: bytes) -> Extracted:
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds for a damaged file
        raise _damaged(exc) from None
    with pdf:
        try:
            pages = pdf.pages
            if len(pages) > MAX_PAGES:
                raise FormatError(f"PDF 有 {len(pages)} 页，超过 {MAX_PAGES} 页，不像一篇年度报告；请只提供报告本身"
                                  f"（PDF has over {MAX_PAGES} pages）")
            lines, heights, counts = [], [], Counter()
            for number, page in enumerate(pages, 1):
                lines.extend(_page_lines(page, number, counts))
                heights.append((float(page.height), float(page.bbox[1])))
        except FormatError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _damaged(exc) from None
    if counts["chars"] == 0:
        raise FormatError(NO_TEXT)
    if counts["unmapped"] > 0.3 * counts["chars"]:
        raise FormatError(UNMAPPED_FONTS)
    return _extracted(lines, heights)


def _damaged(exc: Exception) -> FormatError:
    reason = str(exc).strip() or type(exc).__name__
    return FormatError(f"PDF 文件已损坏或不是 PDF，无法读取；请重新获取原文件（damaged PDF: {reason[:120]}）")


# ---------------------------------------------------------------- one page
def _page_lines(page, number: int, counts: Counter) -> list[_Line]:
    found = page.find_tables() if (page.rects or page.lines) else []
    boxes, entries = [], []
    for candidate in found:
        rows = candidate.extract()
        cells = [[(_join_lines(cell or ""), 1, 1, False) for cell in row] for row in rows]
        table = tables.make(cells)
        if table is None:
            continue
        x0, top, x1, bottom = candidate.bbox
        boxes.append(candidate.bbox)
        entries.append(_Line(number, top, bottom, x0, x1, 0.0, "", table=table,
                             rows=["\t".join(row) for row in table.rows]))

    def outside(obj) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in boxes)

    text_page = page.filter(outside) if boxes else page
    chars = [c for c in text_page.chars if c.get("upright", True) and c["text"].strip()]
    counts["chars"] += len(chars)
    counts["unmapped"] += sum(1 for c in chars if UNMAPPED.search(c["text"]))
    if not chars:
        return _ordered(entries, None)
    words = text_page.extract_words(extra_attrs=["size"], keep_blank_chars=False)
    words = [w for w in words if w.get("upright", True)]
    rows: list[list[dict]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if rows and abs(word["top"] - rows[-1][0]["top"]) <= max(2.0, 0.3 * word["size"]):
            rows[-1].append(word)
        else:
            rows.append([word])
    gutter = _gutter(rows)
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        if gutter is None or any(w["x0"] < gutter[1] and w["x1"] > gutter[0] for w in row):
            entries.append(_line_of(row, number, 0))
            continue
        left = [w for w in row if w["x1"] <= gutter[0]]
        right = [w for w in row if w["x0"] >= gutter[1]]
        entries += [_line_of(part, number, side) for side, part in ((1, left), (2, right)) if part]
    if gutter is not None:
        for entry in entries:
            if entry.table is not None and (entry.x1 <= gutter[0] or entry.x0 >= gutter[1]):
                entry.column = 1 if entry.x1 <= gutter[0] else 2
    return _ordered(entries, gutter)


def _line_of(words: list[dict], page: int, column: int) -> _Line:
    text = " ".join(word["text"] for word in words)  # words of a line are apart in print
    return _Line(page, min(w["top"] for w in words), max(w["bottom"] for w in words), words[0]["x0"],
                 words[-1]["x1"], max(w["size"] for w in words), text, column)


def _gutter(rows: list[list[dict]]) -> tuple[float, float] | None:
    """The gap between two columns of text (from x, to x), or None for one column: a run
    of at least 6 points in the middle half of the text's width that at most one row in
    twenty crosses (those are full width), with at least three rows on each side of it."""
    words = [w for row in rows for w in row]
    if len(rows) < 6:
        return None
    left, right = min(w["x0"] for w in words), max(w["x1"] for w in words)
    width = right - left
    if width < 100:
        return None
    lo, hi = int(left + width / 4), int(left + 3 * width / 4)
    cover = [0] * (hi - lo + 1)
    for row in rows:
        seen = set()
        for w in row:
            for x in range(max(lo, int(w["x0"])), min(hi, int(w["x1"])) + 1):
                seen.add(x)
        for x in seen:
            cover[x - lo] += 1
    allowed = max(1, len(rows) // 20)
    best, run_start = None, None
    for k, value in enumerate(cover + [allowed + 1]):
        if value <= allowed:
            run_start = k if run_start is None else run_start
        elif run_start is not None:
            if k - run_start >= 6 and (best is None or k - run_start > best[1] - best[0]):
                best = (run_start, k)
            run_start = None
    if best is None:
        return None
    gutter = (lo + best[0], lo + best[1] - 1)
    sides = Counter(1 if all(w["x1"] <= gutter[0] for w in row) else 2 if all(w["x0"] >= gutter[1] for w in row)
                    else 0 for row in rows)
    return gutter if sides[1] >= 3 and sides[2] >= 3 else None


def _ordered(entries: list[_Line], gutter: tuple[float, float] | None) -> list[_Line]:
    """Reading order: top to bottom; between two full-width lines, the left column, then
    the right."""
    entries.sort(key=lambda e: (e.top, e.x0))
    if gutter is None:
        return entries
    out: list[_Line] = []
    band: list[_Line] = []
    for entry in entries:
        if entry.column == 0:
            out += sorted(band, key=lambda e: (e.column, e.top))
            band = []
            out.append(entry)
        else:
            band.append(entry)
    return out + sorted(band, key=lambda e: (e.column, e.top))


# ---------------------------------------------------------------- the document
def _extracted(lines: list[_Line], heights: list[tuple[float, float]]) -> Extracted:
    text_lines: list[str] = []
    pages: list[int] = []
    page_at = 0
    for entry in lines:
        while page_at < entry.page:
            page_at += 1
            pages.append(len(text_lines) + 1)
        entry.line = len(text_lines) + 1
        text_lines.extend(entry.rows if entry.table is not None else [entry.text])
    while page_at < len(heights):
        page_at += 1
        pages.append(len(text_lines) + 1)
    chrome = _chrome(lines, heights)
    changes = tuple(Change(entry.line, "chrome", entry.text, "") for entry in lines if id(entry) in chrome)
    body = [entry for entry in lines if id(entry) not in chrome]
    found_tables = tuple(_with_line(entry) for entry in body if entry.table is not None)
    return Extracted(text="\n".join(text_lines), lines=tuple(_paragraphs(body)), tables=found_tables,
                     changes=changes, pages=tuple(pages))


def _with_line(entry: _Line):
    import dataclasses

    return dataclasses.replace(entry.table, line=entry.line)


def _chrome(lines: list[_Line], heights: list[tuple[float, float]]) -> set[int]:
    """The lines that are page chrome: page numbers, and running headers or footers."""
    by_page: dict[int, list[_Line]] = {}
    for entry in lines:
        if entry.table is None:
            by_page.setdefault(entry.page, []).append(entry)
    candidates: list[_Line] = []
    for page, entries in by_page.items():
        height, top = heights[page - 1]
        ends = entries[:2] + [e for e in entries[-2:] if all(e is not f for f in entries[:2])]
        for entry in ends:
            if entry.top - top <= CHROME_BAND * height or entry.bottom - top >= (1 - CHROME_BAND) * height:
                candidates.append(entry)
    shapes = Counter()
    for entry in candidates:
        shapes[(_shape(entry.text))] += 1
    repeated = max(2, (len(by_page) + 1) // 2)
    return {id(entry) for entry in candidates
            if PAGE_NUMBER.fullmatch(entry.text) or (len(by_page) >= 2 and shapes[_shape(entry.text)] >= repeated)}


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _paragraphs(lines: list[_Line]) -> list[tuple[int, str]]:
    """The paragraphs of the lines: see the module's docstring. A column's edges are those
    of its text: its leftmost start, and the furthest end of a line that starts there
    (centred lines such as a title or a header, and right-aligned ones, do not count)."""
    columns: dict[tuple[int, int], list[_Line]] = {}
    for entry in lines:
        if entry.table is None:
            columns.setdefault((entry.page, entry.column), []).append(entry)
    edges: dict[tuple[int, int], tuple[float, float]] = {}
    for key, entries in columns.items():
        left = min(e.x0 for e in entries)
        right = max((e.x1 for e in entries if e.x0 <= left + 3 * (e.size or 10.0)), default=0.0)
        edges[key] = (left, right)
    out: list[tuple[int, str]] = []
    previous: _Line | None = None
    for entry in lines:
        if entry.table is not None:
            previous = None
            continue
        if previous is not None and _continues(previous, entry, edges):
            line, text = out[-1]
            out[-1] = (line, join_text(text, entry.text))
        else:
            out.append((entry.line, entry.text))
        previous = entry
    return out


def _continues(before: _Line, after: _Line, edges) -> bool:
    right = edges[(before.page, before.column)][1]
    left = edges[(after.page, after.column)][0]
    size = before.size or 10.0
    if before.x1 < right - 1.5 * size or after.x0 > left + 0.8 * size:
        return False  # the line stops short of the edge, or the next one is indented
    if abs(after.size - before.size) > 1.0:
        return False
    if LIST_START.match(after.text) or (before.text[-1:] in SENTENCE_END and HEADING_START.match(after.text)):
        return False
    same_column = (after.page, after.column) == (before.page, before.column)
    return not same_column or after.top - before.bottom <= 1.5 * size


def _join_lines(cell: str) -> str:
    """A table cell's text, its wrapped lines joined."""
    parts = [p.strip() for p in cell.split("\n") if p.strip()]
    text = ""
    for part in parts:
        text = join_text(text, part) if text else part
    return text
