"""Immutable data that crosses the stages of a build.

read -> Source; parse -> Report (and its Summary); assemble -> Site; render -> Page. Every stage takes and
returns these frozen dataclasses (tuples, never lists), so a stage can be cached, compared
or run in another process without surprises. Their fields are plain data (see codec.py: how
the state stores them).
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field, fields


# The five mandated parts of an annual report (see docs/domain.md, section 1).
PARTS: dict[int, str] = {
    1: "主要举措和成效",
    2: "存在的不足和原因",
    3: "党政主要负责人履行第一责任人职责情况",
    4: "下一年度主要安排",
    5: "其他需要报告的情况",
}

UNKNOWN_PLACE = "未标明地点"  # the name of the place of reports that name none

# Fields a maintainer may set in front matter or a `<name>.meta.toml` sidecar.
OVERRIDE_KEYS = ("id", "issuer", "level", "place", "published", "publisher", "region", "title", "written", "year")

# Quality flags a report can carry, with the Chinese label shown on pages.
FLAGS: dict[str, str] = {
    "missing-part-1": "缺少：主要举措和成效",
    "missing-part-2": "缺少：存在的不足和原因",
    "missing-part-3": "缺少：第一责任人职责情况",
    "missing-part-4": "缺少：下一年度主要安排",
    "placeholder": "含模板占位符（XX、××、某某等）",
    "masked-digits": "数字被屏蔽（*）",
    "cut": "内容有删节（略）",
    "spam-removed": "已删除植入的垃圾信息",
    "truncated": "正文可能不完整",
    "template": "疑似模板而非实际报告",
    "late": "晚于次年4月1日发布",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A content problem, printed as ``path:line: severity: message``."""

    path: str
    line: int
    message: str
    severity: str = "error"  # "error" (report not published) or "warning"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Source:
    """One report file as read from disk: its bytes and their decoded text."""

    path: str  # POSIX path relative to the content directory
    format: str  # a key of FORMAT_NAMES: "txt", "html", "md", "pdf", "docx", "doc"
    raw: bytes
    sha256: str
    # The text: decoded, newlines normalised to "\n"; of a document format (pdf, docx,
    # doc) the text read out of the file, one line per line of print (see content/formats).
    text: str
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "gb18030"; "" for a document format
    overrides: tuple[tuple[str, str], ...] = ()  # from front matter / sidecar, sorted
    override_lines: tuple[tuple[str, int], ...] = ()  # field -> line in the override file
    # What a document format's reader made for the parser (empty for text formats, which
    # the parser reads from `text`): the paragraphs as (line of `text` where each starts,
    # text), without the rows of its tables, which are in `tables` (each placed before
    # the first paragraph that starts after its line), and the page headers, footers and
    # numbers it took out, as Changes of kind "chrome".
    lines: tuple[tuple[int, str], ...] = ()
    tables: tuple[Table, ...] = ()
    changes: tuple[Change, ...] = ()
    pages: tuple[int, ...] = ()  # of a paged format (pdf): the line of `text` where each page starts


@dataclass(frozen=True, slots=True)
class Change:
    """One edit made by the cleaner: 1-based line of the decoded source."""

    line: int
    kind: str
    before: str
    after: str


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("%", "").strip().isdigit()


@dataclass(frozen=True, slots=True)
class Table:
    """A table of a report, as a grid of cleaned cell text.

    Every row has as many cells as the widest. A merged cell's text is in its top-left
    position, the positions it covers hold "" and `spans` says how far it reaches: the
    grid stays rectangular for data users, and the page can draw the merge."""

    rows: tuple[tuple[str, ...], ...]
    head: int = 0  # how many of the first rows are column headings
    caption: str = ""  # its title: a <caption>, or a 「表1 …」 line just before it; else ""
    line: int = 0  # where its first row is in the source (of a document format: the line of its text)
    spans: tuple[tuple[int, int, int, int], ...] = ()  # (row, column, rows, columns) of each merged cell
    section: int = 0  # where it is: 0 in the preamble, k in the report's sections[k - 1] ...
    after: int = 0  # ... after this many of that text's paragraphs

    def text(self) -> str:
        """The table as lines of text, for the search text: the caption, then each row's
        cells separated by spaces."""
        rows = (" ".join(cell for cell in row if cell) for row in self.rows)
        return "\n".join(line for line in (self.caption, *rows) if line)

    def cells(self) -> list[list[tuple[str, int, int, str]]]:
        """The cells to draw, row by row, as (text, rows, columns, scope): the positions a
        merged cell covers left out; scope "col" in a heading row, "row" in the first
        column of a table whose first column names its rows (no numbers in it), else ""."""
        span = {(r, c): (rows, columns) for r, c, rows, columns in self.spans}
        covered = {(r + dr, c + dc) for (r, c), (rows, columns) in span.items()
                   for dr in range(rows) for dc in range(columns) if dr or dc}
        names = self.head > 0 and not any(_is_number(row[0]) for row in self.rows[self.head:])
        out = []
        for r, row in enumerate(self.rows):
            cells = []
            for c, text in enumerate(row):
                if (r, c) in covered:
                    continue
                rows, columns = span.get((r, c), (1, 1))
                scope = "col" if r < self.head else "row" if c == 0 and names else ""
                cells.append((text, rows, columns, scope))
            out.append(cells)
        return out


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    level: int  # 1 = top level (一、), 2 = （一）, 3 = 1., 4 = （1）
    part: int | None  # mandated part 1-5 for top-level sections, else None
    text: str  # paragraphs separated by "\n"
    line: int = 0  # line of the heading in the decoded source
    number: str = ""  # the heading's numbering as printed, e.g. "一、", "（1）"


@dataclass(frozen=True, slots=True)
class Report:
    source: str  # content-relative path of the original file
    format: str
    encoding: str
    sha256: str
    script: str  # "simplified" or "traditional" (of the original)
    title: str
    title_derived: bool
    place: str | None
    level: str | None  # 镇/乡/街道/县/区/市/部门
    issuer: tuple[str, ...]  # who signed: the text's issuer lines or signature, else derived from the place
    issuer_derived: bool  # the issuer is not in the text: derived from the place
    publisher: str | None  # 发布机构 as the page's metadata names it (may be another office)
    region: str | None
    year: int | None
    published: str | None  # YYYY-MM-DD
    written: str | None
    signed: str | None
    index_no: str | None
    doc_no: str | None
    source_name: str | None  # 信息来源
    addressee: str | None  # 主送
    cc: str | None  # 抄送
    preamble: str  # paragraphs before the first section, "\n"-separated
    sections: tuple[Section, ...]
    text: str  # the cleaned simplified body with its headings
    changes: tuple[Change, ...]
    flags: tuple[str, ...]
    slug: str | None = None  # explicit id from front matter / sidecar
    keywords: tuple[str, ...] = ()  # top words by TF-IDF (tokenizer.top_words), filled after parsing
    words: str = ""  # the segmenter's words of title and text, space-separated (ranking), filled after parsing
    # Packed 64-bit hashes of the body's normalised sentences (similarity.sentence_hashes),
    # filled after parsing: enough to compare reports without reading them back.
    sentences: bytes = field(default=b"", repr=False)
    tables: tuple[Table, ...] = ()  # in the order of the text; their cells are also lines of `text`
    pages: tuple[int, ...] = ()  # the Source's: where each page of a paged original starts
    # The text read out of a document format's file (Source.text), shown as its 原文; ""
    # when the original is text, which is shown as it is.
    extracted_text: str = field(default="", repr=False)

    def where(self, line: int) -> str:
        """A line of the source as a reader finds it: 「第2页第5行」 in a paged original."""
        if not self.pages:
            return str(line)
        page = bisect_right(self.pages, line)
        return f"第{page}页第{line - self.pages[page - 1] + 1}行" if page else str(line)

    def page_texts(self) -> list[tuple[int, str]]:
        """The extracted text of a paged original, page by page: (page number, text)."""
        lines = self.extracted_text.split("\n")
        bounds = [*self.pages, len(lines) + 1]
        return [(k + 1, "\n".join(lines[bounds[k] - 1:bounds[k + 1] - 1])) for k in range(len(self.pages))]

    # The place as a division of the gazetteer (see site_builder.gazetteer): its official code
    # and its chain of official names and codes from the province down to itself. Empty for a
    # place the table does not know (new, renamed, invented): place_known is then False.
    place_code: str | None = None
    place_known: bool = False
    place_chain: tuple[str, ...] = ()
    place_chain_codes: tuple[str, ...] = ()
    year_range: tuple[int, ...] = ()  # (first, last) of a report covering several years; year is None
    topic: str | None = None  # 主题分类 (信息分类, 分类) as the page's metadata names it

    def to_json(self) -> dict:
        """The stable ``site-builder parse --json`` contract."""
        return {
            "file": self.source,
            "encoding": self.encoding,
            "title": self.title,
            "title_derived": self.title_derived,
            "place": self.place,
            "level": self.level,
            "issuer": list(self.issuer),
            "issuer_derived": self.issuer_derived,
            "publisher": self.publisher,
            "region": self.region,
            "year": self.year,
            "published": self.published,
            "written": self.written,
            "signed": self.signed,
            "index_no": self.index_no,
            "doc_no": self.doc_no,
            "source": self.source_name,
            "addressee": self.addressee,
            "cc": self.cc,
            "script": self.script,
            "sections": [
                {"heading": s.heading, "level": s.level, "part": s.part, "text": s.text}
                for s in self.sections
            ],
            "text": self.text,
            "changes": [
                {"line": c.line, "kind": c.kind, "before": c.before, "after": c.after}
                for c in self.changes
            ],
            "flags": list(self.flags),
            "format": self.format,
            "tables": [
                {"caption": t.caption, "rows": [list(row) for row in t.rows], "head": t.head,
                 "spans": [list(span) for span in t.spans], "section": t.section, "after": t.after}
                for t in self.tables
            ],
            "year_range": list(self.year_range) or None,
            "place_code": self.place_code,
            "place_recognized": self.place_known,
            "place_chain": [{"name": name, "code": code}
                            for name, code in zip(self.place_chain, self.place_chain_codes)],
            "topic": self.topic,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """What listings, feeds and indexes need of a report, without its body.

    A site holds one Summary per report; the full Report stays in the parse cache and is
    read back (by `key`) only to render its own page or index it, so memory stays small
    at a national archive's scale."""

    key: str  # parse-cache key of the full Report
    source: str
    format: str
    encoding: str
    sha256: str
    script: str
    title: str
    title_derived: bool
    place: str | None
    level: str | None
    issuer: tuple[str, ...]
    issuer_derived: bool
    publisher: str | None
    region: str | None
    year: int | None
    published: str | None
    written: str | None
    signed: str | None
    index_no: str | None
    doc_no: str | None
    source_name: str | None
    addressee: str | None
    cc: str | None
    flags: tuple[str, ...]
    parts: tuple[int, ...]  # mandated parts present, sorted
    slug: str | None
    lead: str  # the opening of the body, for feeds and result lists
    keywords: tuple[str, ...] = ()
    sentences: bytes = field(default=b"", repr=False)  # the Report's
    place_code: str | None = None  # the Report's place as a gazetteer division (see Report)
    place_known: bool = False
    place_chain: tuple[str, ...] = ()
    place_chain_codes: tuple[str, ...] = ()
    year_range: tuple[int, ...] = ()
    topic: str | None = None

    @classmethod
    def of(cls, report: Report, key: str) -> "Summary":
        shared = {f.name: getattr(report, f.name) for f in fields(cls) if f.name not in ("key", "parts", "lead")}
        parts = sorted({s.part for s in report.sections if s.part})
        lead = (report.preamble or report.text).replace("\n", " ")[:200]
        return cls(key=key, parts=tuple(parts), lead=lead, **shared)


@dataclass(frozen=True, slots=True)
class Entry:
    """A report placed in the site: its summary plus everything assemble decided."""

    report: Summary
    id: str  # ASCII, stable, unique; the report's URL is reports/<id>/
    place_key: str  # the node of the region tree this report belongs to (see site/tree.py)
    prev_id: str | None = None  # previous report of the same place (older year)
    next_id: str | None = None
    similar: tuple[tuple[str, float], ...] = ()  # (entry id, share of identical sentences), most first


def entry_inputs(entry: Entry) -> tuple:
    """What any page or file may show of one entry, as a cheap comparable value. A summary
    is a function of its parse-cache key (the file's bytes, its path and the parse code),
    so the key stands for all its fields; the rest is what assemble decided."""
    return (entry.id, entry.report.key, entry.place_key, entry.prev_id, entry.next_id, entry.similar)


@dataclass(frozen=True, slots=True)
class Place:
    """A node of the region tree (site/tree.py): a division of the gazetteer, a department
    of one, a place the gazetteer does not know (under its nearest known division), or the
    list of places with no known division at all (未识别地区)."""

    key: str  # its identity: a division's code, else the parent's key and the node's name
    name: str
    slug: str  # its URL below places/ (ASCII): a division's code, "440000/qingshanzhen", "unknown"
    level: str | None  # 省/市/县/区/镇/乡/街道/部门 (a division's from its kind)
    region: str | None  # the names above it, province first
    entry_ids: tuple[str, ...]  # its own reports, oldest first
    kind: str = "division"  # "division", "department", "unknown" (not in the gazetteer), "list"
    code: str | None = None  # a division's code in the gazetteer
    parent: str | None = None  # the key of the node above; None for a province and the 未识别地区 list
    children: tuple[str, ...] = ()  # keys: divisions by code, then departments, then unknown places
    total: int = 0  # reports of the node and all below it


@dataclass(frozen=True, slots=True)
class Site:
    entries: tuple[Entry, ...]  # sorted by id
    places: tuple[Place, ...]  # the nodes of the region tree, sorted by key
    years: tuple[tuple[int, tuple[str, ...]], ...]  # (year, entry ids), newest year first
    undated: tuple[str, ...] = field(default=())  # ids of reports with no known year
    roots: tuple[str, ...] = ()  # keys of the top nodes of the tree: provinces by code, then 未识别地区


@dataclass(frozen=True, slots=True)
class Page:
    """One output file of the site: its path in output/, a fingerprint of all it is made
    from (None: unknown), and how to make its bytes, called only when the fingerprint does
    not match what the output holds (see publish/write.py)."""

    path: str
    fingerprint: str | None
    produce: Callable[[], bytes]

    @classmethod
    def of(cls, path: str, data: bytes) -> "Page":
        return cls(path, None, lambda: data)


# The formats a report can be read from, as the report page names them.
FORMAT_NAMES: dict[str, str] = {
    "txt": "纯文本",
    "html": "网页（HTML）",
    "md": "Markdown",
    "pdf": "PDF",
    "docx": "Word 文档（.docx）",
    "doc": "Word 97-2003 文档（.doc）",
}

# What each kind of cleaner change means, as shown in the 处理说明 panel.
CHANGE_KINDS: dict[str, str] = {
    "chrome": "删除网页框架、小部件与页眉页脚",
    "metadata": "元数据行转为字段",
    "aggregator": "删除转载站标记",
    "spam": "删除植入的垃圾信息",
    "pinyin": "删除拼音注音",
    "mojibake": "修复乱码编号",
    "replacement-char": "删除无法识别的字符",
    "spacing": "删除词内多余空格",
    "t2s": "繁体转简体",
    "duplicate-title": "删除重复标题",
    "signature": "落款转为字段",
    "control-char": "删除控制字符",
    "markup": "转换标记格式",
}
