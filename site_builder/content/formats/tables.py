"""Tables of a report, from any format: which tables are data, their grid, caption and
cleaning.

A reader (htmlpage for HTML and Markdown, the docx and pdf readers) gives each table it
finds as rows of cells; `make` keeps it as a Table when it holds data, and says None for
a layout or metadata table (its text then stays lines, as the parser knows them). In the
parser's stream of (line, text) a data table is one entry (line, Table); the parser keeps
it out of its line rules, cleans its cells as it cleans lines (`cleaned`), and places it
back among the body's paragraphs (`body_lines`).
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from .. import clean, metadata
from ...model import Table

# A cell as a reader gives it: (text, columns it spans, rows it spans, is a heading cell).
Cell = tuple[str, int, int, bool]

MAX_SPAN = 50  # a wider or taller span than this is damage (or hostile), not a table
MAX_COLUMNS = 60
MAX_CELLS = 20_000
LONG_CELL = 300  # a cell holding this much text is page layout (a paragraph in a frame)
# 「表1 行政复议案件情况」「附表2：…」 alone on the line before a table: its caption.
CAPTION_RE = re.compile(r"(?:附\s*)?表\s*[0-9０-９一二三四五六七八九十]{1,3}(?:[\s.．、:：\-—]|$)")
MAX_CAPTION = 60


def make(rows: Sequence[Sequence[Cell]], caption: str = "", line: int = 0) -> Table | None:
    """The Table of a reader's rows, or None when they are not a data table: fewer than two
    rows or two columns, a cell as long as a paragraph (layout), or the labels of a
    metadata table (索引号、发布机构 …, which the parser reads as lines). Without heading
    cells, a first row with no number in it, above rows with numbers, is the heading."""
    grid: list[list[str | None]] = []
    spans: list[tuple[int, int, int, int]] = []
    head = 0
    heading_rows = True
    filled = 0
    for r, row in enumerate(rows):
        while len(grid) <= r:
            grid.append([])
        c = 0
        for text, columns, down, is_head in row:
            columns, down = max(1, min(columns, MAX_SPAN)), max(1, min(down, MAX_SPAN))
            while c < len(grid[r]) and grid[r][c] is not None:
                c += 1
            filled += columns * down
            if c + columns > MAX_COLUMNS or filled > MAX_CELLS:
                return None
            for rr in range(r, r + down):
                while len(grid) <= rr:
                    grid.append([])
                target = grid[rr]
                target.extend([None] * (c + columns - len(target)))
                for cc in range(c, c + columns):
                    target[cc] = "" if (rr, cc) != (r, c) else text.strip()
            if columns > 1 or down > 1:
                spans.append((r, c, down, columns))
            c += columns
        if heading_rows and row and all(cell[3] for cell in row):
            head = r + 1
        else:
            heading_rows = False
    width = max((len(row) for row in grid), default=0)
    cells = [[cell or "" for cell in row] + [""] * (width - len(row)) for row in grid]
    if not spans:  # empty rows (a Word table's spare rows) go; with merges they hold the grid
        kept = [r for r, row in enumerate(cells) if any(row)]
        head = sum(1 for r in kept if r < head)
        cells = [cells[r] for r in kept]
    if len(cells) < 2 or width < 2 or head >= len(cells):
        return None
    if head == 0 and not _numeric(cells[0]) and any(_numeric(row) for row in cells[1:]):
        head = 1
    texts = [cell for row in cells for cell in row if cell]
    if not texts or any(len(cell) > LONG_CELL for cell in texts):
        return None
    if sum(1 for cell in texts if _label(cell)) >= 2:
        return None
    return Table(rows=tuple(tuple(row) for row in cells), head=head, caption=caption.strip(), line=line,
                 spans=tuple(spans))


_NUMBER = re.compile(r"[-+]?[\d,，.]+\s*(?:%|件|人|次|万元|元|个|项|起|家|户|名)?")


def _numeric(row: Sequence[str]) -> bool:
    return any(_NUMBER.fullmatch(cell) for cell in row)


def _label(cell: str) -> bool:
    return metadata.label_only(cell) is not None or metadata.LABEL_RE.match(cell) is not None


def captioned(stream: list[tuple[int, object]]) -> list[tuple[int, object]]:
    """The stream with each 「表1 …」 line just before a table without a caption made its
    caption (it is the table's title, not a paragraph of the text)."""
    out: list[tuple[int, object]] = []
    for line, value in stream:
        if isinstance(value, Table) and not value.caption and out and isinstance(out[-1][1], str):
            before = clean.CONTROL_RE.sub("", out[-1][1]).strip().strip("*_ ")
            if len(before) <= MAX_CAPTION and CAPTION_RE.match(before):
                out.pop()
                value = dataclasses.replace(value, caption=before)
        out.append((line, value))
    return out


def cleaned(table: Table) -> tuple[Table, list[tuple[str, str, str]]]:
    """The table with its caption and cells repaired as the cleaner repairs a line
    (control characters, mojibake, traditional script, injected spam), and the changes
    made, as (kind, before, after)."""
    changes: list[tuple[str, str, str]] = []

    def fix(text: str) -> str:
        if not text:
            return text
        fixed, reps = clean.repair_line(text, markup=False)
        changes.extend(reps)
        fixed = fixed.strip()
        stripped = clean.strip_spam(fixed)
        if stripped != fixed:
            changes.append(("spam", fixed, stripped))
        return stripped

    rows = tuple(tuple(fix(cell) for cell in row) for row in table.rows)
    return dataclasses.replace(table, rows=rows, caption=fix(table.caption)), changes


def body_lines(body: Sequence, items: Sequence, anchors: Sequence[tuple[int, Table]], line_type) -> list:
    """The body's lines (`line_type(line, text)`) with each table placed where it was:
    before the first body item that came after it in the stream (`anchors`: the index in
    `items` of the item it came before, and the table), else at the end. A table in the
    header (before the first paragraph) comes first in the body: tables are never
    dropped."""
    order = {id(item): k for k, item in enumerate(items)}
    out = []
    pending = list(anchors)
    pending.reverse()
    for item in body:
        k = order.get(id(item), len(items))
        while pending and pending[-1][0] <= k:
            table = pending.pop()[1]
            out.append(line_type(table.line, table.text(), table))
        out.append(line_type(item.line, item.text))
    while pending:
        table = pending.pop()[1]
        out.append(line_type(table.line, table.text(), table))
    return out
