"""Word documents (.docx), read with python-docx.

The body is read in order: paragraphs (their list numbering written out as Word shows
it, 「一、」「（一）」「1.」, since the parser reads numbering from the text), tables
(merged cells kept as spans) and content controls. Each paragraph is a line of the
text; a line break inside a paragraph starts a new line; a table's rows are lines with
their cells separated by tabs. Page headers and footers are parts of their own, not of
the body: they are not read. Text boxes are not read.

A .docx is a zip: its declared sizes are checked before anything is unpacked, so a zip
bomb is refused at once (zipfile then never inflates a member past its declared size).
"""
from __future__ import annotations

import io
import zipfile

from . import Extracted, FormatError, join_text, tables

MAX_UNPACKED = 100 * 1024 * 1024  # all parts together; a long report with photos is a few MB
MAX_RATIO = 200  # a member over 1 MB that inflates more than this is a bomb (XML inflates ~10x)
MAX_MEMBERS = 10_000

NOT_DOCX = ("不是有效的 .docx 文件（可能已损坏，或只是改了扩展名）；请用 Word 或 WPS 打开后另存为 .docx"
            "（not a valid .docx file: damaged or renamed）")


def read(raw: bytes) -> Extracted:
    check_zip(raw, ".docx")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise FormatError(f"{NOT_DOCX[:-1]}: {type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - lxml's syntax errors and the like: a damaged part
        raise FormatError(f"{NOT_DOCX[:-1]}: {type(exc).__name__})") from None
    reader = _Reader(document)
    reader.blocks(document.element.body)
    return Extracted(text="\n".join(reader.text), lines=tuple(reader.paragraphs), tables=tuple(reader.tables))


def check_zip(raw: bytes, suffix: str) -> None:
    """Refuse a zip that is damaged or would unpack to too much, from its directory alone."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FormatError(NOT_DOCX if suffix == ".docx" else f"不是有效的 {suffix} 文件（not a valid {suffix} file）") from None
    total = sum(m.file_size for m in members)
    worst = max(members, key=lambda m: m.file_size / max(1, m.compress_size), default=None)
    ratio = worst.file_size / max(1, worst.compress_size) if worst else 0
    if len(members) > MAX_MEMBERS or total > MAX_UNPACKED or (worst and worst.file_size > 1 << 20 and ratio > MAX_RATIO):
        raise FormatError(
            f"{suffix} 文件解压后达 {total // (1 << 20)} MB（压缩比 {ratio:.0f}:1），疑为压缩炸弹，已拒绝读取；请检查文件来源"
            f"（{suffix} would unpack to {total} bytes: refused as a zip bomb）")


_CN = "一二三四五六七八九十"
_CN_LEGAL = "壹贰叁肆伍陆柒捌玖拾"
_HEAVENLY = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def _chinese(n: int, digits: str = _CN) -> str:
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    ten = digits[9]
    if tens == 0:
        return digits[ones - 1]
    return ("" if tens == 1 else digits[tens - 1]) + ten + (digits[ones - 1] if ones else "")


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letter(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def number_text(n: int, fmt: str) -> str:
    """A list number as Word writes it in format `fmt` (w:numFmt)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "ideographDigital", "taiwaneseCountingThousand"):
        return _chinese(n)
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional"):
        return _chinese(n, _CN_LEGAL)
    if fmt in ("ideographTraditional",):
        return _HEAVENLY[(n - 1) % 10]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return _CIRCLED[n - 1]
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(d) - ord("0") + ord("０")) for d in str(n))
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt == "lowerLetter":
        return _letter(n)
    if fmt == "upperLetter":
        return _letter(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("none", "bullet"):
        return ""
    return str(n)


class _Reader:
    """Walks the body, writing the text, the paragraphs and the tables."""

    def __init__(self, document):
        from docx.oxml.ns import qn

        self.qn = qn
        self.text: list[str] = []
        self.paragraphs: list[tuple[int, str]] = []
        self.tables: list = []
        self.levels = self._numbering(document)
        self.style_numbers = self._style_numbering(document)
        self.counters: dict[str, list[int]] = {}

    # -- numbering.xml: numId -> {ilvl: (start, numFmt, lvlText)}
    def _numbering(self, document) -> dict[str, dict[int, tuple[int, str, str]]]:
        qn = self.qn
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return {}
        abstract = {}
        for node in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in node.findall(qn("w:lvl")):
                levels[int(lvl.get(qn("w:ilvl"), "0"))] = (
                    int(_val(lvl.find(qn("w:start")), qn) or 1),
                    _val(lvl.find(qn("w:numFmt")), qn) or "decimal",
                    _val(lvl.find(qn("w:lvlText")), qn) or "")
            abstract[node.get(qn("w:abstractNumId"))] = levels
        out = {}
        for num in root.findall(qn("w:num")):
            levels = dict(abstract.get(_val(num.find(qn("w:abstractNumId")), qn), {}))
            for override in num.findall(qn("w:lvlOverride")):
                ilvl = int(override.get(qn("w:ilvl"), "0"))
                start = _val(override.find(qn("w:startOverride")), qn)
                if start is not None and ilvl in levels:
                    levels[ilvl] = (int(start), *levels[ilvl][1:])
            out[num.get(qn("w:numId"))] = levels
        return out

    def _style_numbering(self, document) -> dict[str, tuple[str, int]]:
        """Style id -> (numId, ilvl) of styles that number their paragraphs (List Number)."""
        qn = self.qn
        out = {}
        try:
            styles = document.styles.element
        except (KeyError, AttributeError):
            return out
        for style in styles.findall(qn("w:style")):
            num = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num is not None:
                num_id = _val(num.find(qn("w:numId")), qn)
                if num_id:
                    out[style.get(qn("w:styleId"))] = (num_id, int(_val(num.find(qn("w:ilvl")), qn) or 0))
        return out

    def _number(self, p) -> str:
        qn = self.qn
        props = p.find(qn("w:pPr"))
        num = props.find(qn("w:numPr")) if props is not None else None
        found = None
        if num is not None:
            num_id = _val(num.find(qn("w:numId")), qn)
            found = (num_id, int(_val(num.find(qn("w:ilvl")), qn) or 0)) if num_id else None
        elif props is not None and (style := _val(props.find(qn("w:pStyle")), qn)):
            found = self.style_numbers.get(style)
        if not found or found[0] == "0" or found[0] not in self.levels:
            return ""
        num_id, ilvl = found
        levels = self.levels[num_id]
        counts = self.counters.setdefault(num_id, [0] * 9)
        if not 0 <= ilvl < 9:
            return ""
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else levels.get(ilvl, (1,))[0]
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0
        start, fmt, pattern = levels.get(ilvl, (1, "decimal", f"%{ilvl + 1}."))
        if fmt == "bullet":
            return ""
        text = pattern
        for k in range(ilvl + 1):
            k_fmt = levels.get(k, (1, "decimal", ""))[1]
            text = text.replace(f"%{k + 1}", number_text(counts[k] or levels.get(k, (1,))[0], k_fmt))
        return text

    # -- the body
    def blocks(self, parent) -> None:
        qn = self.qn
        for child in parent.iterchildren():
            if child.tag == qn("w:p"):
                self.paragraph(child)
            elif child.tag == qn("w:tbl"):
                self.table(child)
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    self.blocks(content)

    def paragraph(self, p) -> None:
        number = self._number(p)
        pieces = _paragraph_text(p, self.qn).split("\n")
        pieces[0] = number + pieces[0]
        for piece in pieces:
            self.text.append(piece)
            if piece.strip():
                self.paragraphs.append((len(self.text), piece.strip()))

    def table(self, tbl) -> None:
        qn = self.qn
        if tbl.find(f".//{qn('w:tbl')}") is not None:  # a table in a table: page layout, read as text
            for tc in tbl.iter(qn("w:tc")):
                for p in tc.findall(qn("w:p")):
                    self.paragraph(p)
            return
        grid: list[list[tuple[str, int, str | None, bool]]] = []  # per row: (text, span, vMerge, header)
        for tr in tbl.findall(qn("w:tr")):
            props = tr.find(qn("w:trPr"))
            header = props is not None and props.find(qn("w:tblHeader")) is not None
            row = []
            before = props.find(qn("w:gridBefore")) if props is not None else None
            if before is not None and (_val(before, qn) or "0").isdigit():
                row.extend([("", 1, None, header)] * int(_val(before, qn)))
            for tc in tr.findall(qn("w:tc")):
                tc_props = tc.find(qn("w:tcPr"))
                span, merge = 1, None
                if tc_props is not None:
                    grid_span = tc_props.find(qn("w:gridSpan"))
                    span = int(_val(grid_span, qn) or 1) if grid_span is not None else 1
                    v_merge = tc_props.find(qn("w:vMerge"))
                    if v_merge is not None:
                        merge = _val(v_merge, qn) or "continue"
                texts = [_paragraph_text(p, qn).replace("\n", " ").strip() for p in tc.findall(qn("w:p"))]
                text = ""
                for piece in texts:
                    text = join_text(text, piece) if text else piece
                row.append((text, span, merge, header))
            grid.append(row)
        rows = []
        for r, row in enumerate(grid):
            cells, column = [], 0
            for text, span, merge, header in row:
                if merge == "continue":
                    column += span
                    continue
                down = 1
                if merge == "restart":
                    while r + down < len(grid) and _merge_at(grid[r + down], column) == "continue":
                        down += 1
                cells.append((text, span, down, header))
                column += span
            rows.append(cells)
        first = len(self.text) + 1
        table = tables.make(rows, line=first)
        if table is None:
            for row in grid:
                line = "\t".join(cell[0] for cell in row)
                self.text.append(line)
                if line.strip():
                    self.paragraphs.append((len(self.text), " ".join(c[0] for c in row if c[0])))
            return
        self.text.extend("\t".join(row) for row in table.rows)
        self.tables.append(table)


def _merge_at(row, column: int) -> str | None:
    at = 0
    for _, span, merge, _ in row:
        if at == column:
            return merge
        at += span
        if at > column:
            return None
    return None


def _val(node, qn) -> str | None:
    return None if node is None else node.get(qn("w:val"))


def _paragraph_text(p, qn) -> str:
    """A paragraph's text: its runs, hyperlinks and tracked insertions (not deletions, not
    field codes, not text boxes); tabs as spaces, breaks as newlines."""
    t, tab, br, cr, box = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:txbxContent")
    out = []
    stack = [iter(p)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            continue
        tag = node.tag
        if tag == t:
            out.append(node.text or "")
        elif tag == tab:
            out.append(" ")
        elif tag in (br, cr):
            out.append("\n")
        elif tag != box and tag not in (qn("w:del"), qn("w:pPr"), qn("w:rPr")):
            stack.append(iter(node))
    return "".join(out)
