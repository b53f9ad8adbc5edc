"""Saved HTML pages: the article body as text lines, plus the page's machine-readable fields.

Government CMS pages put the report in a container (TRS_Editor, zoom, article-content, …),
the metadata in a table or an info bar above it, and chrome all around. We keep:
the <meta> fields (ArticleTitle, PubDate, ContentSource), the title and metadata rows outside
the article (as lines for the text pipeline, which knows their labels), and the article's
blocks as lines. Each line carries the 1-based source line where its text starts. A data
table in the article is one entry (line, Table) instead of a line per row (see _table).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .clean import CJK
from .formats import tables
from .metadata import LABEL_RE, find_date

VOID = {"br", "img", "meta", "link", "input", "hr", "area", "base", "col", "embed", "source", "track",
        "wbr", "param"}
SKIP = {"script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "select",
        "button", "textarea", "head"}
BLOCK = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr", "table", "section",
         "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre", "dl", "dt", "dd",
         "center", "form", "hr", "tbody", "thead", "figure", "figcaption", "address"}
CELL = {"td", "th"}
ARTICLE_HINT = re.compile(
    r"TRS_Editor|TRS_EDITOR|TRS_PreAppend|Custom_UnionStyle|zoom|article|content|detail|view|main[-_]?te?xt|"
    r"pages?_content|news_?con|wzy|zwnr|xxgk_?nr|con_?text|text_?con|mainbody|art_?con|show_?con|"
    r"\bnr\b|\bzw\b|\btxt\b|\bbody\b|\bcontent\b",
    re.IGNORECASE,
)
NOT_ARTICLE = re.compile(r"header|footer|nav|menu|sidebar|side|related|share|tools|breadcrumb|location|comment",
                         re.IGNORECASE)
META_FIELDS = {"articletitle": "title", "pubdate": "published", "contentsource": "source",
               "firstimagesource": None}
_CJK_RE = re.compile(f"[{CJK}]")
_SPACE = re.compile(r"[ \t\r\n\f]+")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # Node | tuple[int, str]
    parent: "Node | None" = None
    line: int = 1


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.meta: dict[str, str] = {}
        self.page_title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs_d = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            name = (attrs_d.get("name") or attrs_d.get("property") or "").lower()
            if name in META_FIELDS and META_FIELDS[name] and attrs_d.get("content"):
                self.meta.setdefault(META_FIELDS[name], attrs_d["content"].strip())
            return
        if tag == "title":
            self._in_title = True
        node = Node(tag, attrs_d, parent=self.stack[-1], line=self.getpos()[0])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self._in_title:
            self.page_title += data
            return
        if data:
            self.stack[-1].children.append((self.getpos()[0], data))


def _skipped(node: Node) -> bool:
    return node.tag in SKIP or "display:none" in node.attrs.get("style", "").replace(" ", "")


def _text_len(node: Node, cache: dict[int, int]) -> int:
    key = id(node)
    if key not in cache:
        total = 0
        for child in node.children:
            if isinstance(child, Node):
                if not _skipped(child) and child.tag != "a":  # link lists are navigation
                    total += _text_len(child, cache)
            else:
                total += len(_CJK_RE.findall(child[1]))
        cache[key] = total
    return cache[key]


def _walk(node: Node):
    for child in node.children:
        if isinstance(child, Node) and not _skipped(child):
            yield child
            yield from _walk(child)


def _hint(node: Node) -> str:
    return f"{node.attrs.get('id', '')} {node.attrs.get('class', '')}"


def _article(root: Node) -> Node:
    """The container of the report: a hinted container holding most of the page's text,
    else the element whose direct paragraphs hold the most text."""
    cache: dict[int, int] = {}
    nodes = list(_walk(root))
    hinted = [n for n in nodes if ARTICLE_HINT.search(_hint(n)) and not NOT_ARTICLE.search(_hint(n))
              and n.tag not in ("meta", "body", "html")]
    best_len = max((_text_len(n, cache) for n in hinted), default=0)
    if best_len >= 100:
        good = [n for n in hinted if _text_len(n, cache) >= 0.7 * best_len]
        return min(good, key=lambda n: _text_len(n, cache))
    # Text directly in an element or in its paragraphs (old CMSs put text and <br> in a <td>).
    best, best_score = None, 0
    for n in nodes:
        score = 0
        for child in n.children:
            if isinstance(child, Node):
                if child.tag in ("p", "font", "span", "strong", "b") and not _skipped(child):
                    score += _text_len(child, cache)
            else:
                score += len(_CJK_RE.findall(child[1]))
        if score > best_score:
            best, best_score = n, score
    if best is not None and best_score >= 100:
        return best
    body = next((n for n in nodes if n.tag == "body"), root)
    return body


def _lines(node: Node, out: list, with_tables: bool = False) -> None:
    """Block-structured text of node as (line, text); `with_tables`: a data table as
    (line, Table)."""
    buf: list[tuple[int, str]] = []

    def flush():
        if buf:
            text = _SPACE.sub(" ", "".join(t for _, t in buf)).strip()
            if text:
                out.append((buf[0][0], text))
            buf.clear()

    def visit(n: Node):
        for child in n.children:
            if isinstance(child, Node):
                if _skipped(child):
                    continue
                if child.tag == "br":
                    flush()
                    continue
                if with_tables and child.tag == "table" and (table := _table(child)) is not None:
                    flush()
                    out.append((child.line, table))
                    continue
                if child.tag in BLOCK:
                    flush()
                    visit(child)
                    flush()
                elif child.tag in CELL:
                    buf.append((child.line, "  "))
                    visit(child)
                    buf.append((child.line, "  "))
                else:
                    visit(child)
            elif child[1].strip() or buf:
                buf.append(child)

    visit(node)
    flush()


def _table(node: Node):
    """The Table of a <table> if it holds data (formats.tables.make decides), else None: a
    table with a table inside is page layout."""
    if any(n.tag == "table" for n in _walk(node)):
        return None
    rows: list[list[tables.Cell]] = []
    caption: list[tuple[int, str]] = []

    def span(cell: Node, name: str) -> int:
        value = cell.attrs.get(name, "1").strip()
        return int(value) if value.isdigit() else 1

    def visit(n: Node, head: bool) -> None:
        for child in n.children:
            if not isinstance(child, Node) or _skipped(child):
                continue
            if child.tag == "caption":
                _lines(child, caption)
            elif child.tag in ("thead", "tbody", "tfoot"):
                visit(child, child.tag == "thead")
            elif child.tag == "tr":
                cells = []
                for cell in child.children:
                    if isinstance(cell, Node) and cell.tag in CELL:
                        parts: list[tuple[int, str]] = []
                        _lines(cell, parts)
                        cells.append((" ".join(t for _, t in parts), span(cell, "colspan"), span(cell, "rowspan"),
                                      head or cell.tag == "th"))
                rows.append(cells)

    visit(node, False)
    return tables.make(rows, " ".join(t for _, t in caption), node.line)


def _outside(root: Node, article: Node) -> list[tuple[int, str, bool]]:
    """Metadata rows, info bars and the title outside the article, with their position
    (True = before the article)."""
    found: list[tuple[int, str, bool]] = []
    inside = {id(n) for n in _walk(article)} | {id(article)}
    before = True
    for n in _walk(root):
        if n is article:
            before = False
        if id(n) in inside:
            continue
        if n.tag == "tr" or (n.tag in ("div", "span", "p", "li", "ul") and not any(
                isinstance(c, Node) and c.tag in BLOCK for c in n.children)):
            rows: list[tuple[int, str]] = []
            _lines(n, rows)
            for line, text in rows:
                if LABEL_RE.search(text) and len(text) <= 200:
                    found.append((line, text, before))
        elif n.tag in ("h1", "h2") or (n.tag in ("div", "p", "td") and "title" in _hint(n).lower()):
            rows = []
            _lines(n, rows)
            for line, text in rows[:1]:
                if 6 <= len(text) <= 100:
                    found.append((line, text, before))
    # Keep each text once (an info bar is matched by both the div and its spans).
    seen, unique = set(), []
    for item in found:
        if item[1] not in seen:
            seen.add(item[1])
            unique.append(item)
    return unique


def extract(text: str) -> tuple[list, dict[str, str]]:
    """(lines of the article as (source line, text) and its data tables as (source line,
    Table), fields from <meta> tags)."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    root = builder.root
    article = _article(root)
    body: list = []
    _lines(article, body, with_tables=True)
    outside = _outside(root, article) if article is not root else []
    lines = [(line, t) for line, t, before in outside if before] + body
    lines += [(line, t) for line, t, before in outside if not before]
    fields: dict[str, str] = {}
    meta = builder.meta
    if meta.get("title"):
        fields["title"] = meta["title"]
    if meta.get("published") and (date := find_date(meta["published"])):
        fields["published"] = date
    if meta.get("source"):
        fields["source"] = meta["source"]
    if "title" not in fields and builder.page_title.strip():
        fields["page_title"] = builder.page_title.strip()
    return lines, fields
