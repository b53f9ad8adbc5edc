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

import lxml.etree
import lxml.html

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
_TAG = re.compile(r"<[^<>]{0,2000}>")


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # Node | tuple[int, str]
    parent: "Node | None" = None
    line: int = 1


_XML_DECLARATION = re.compile(r"\A\s{0,100}<\?xml[^>]{0,200}\?>")


def _tree(text: str) -> tuple[Node, dict[str, str], str] | None:
    """The page as Nodes (each with the source line of its start tag, each text with the
    line where it starts), its <meta> fields and its <title>; None when libxml2 cannot read
    it whole (no document, or nesting deeper than it builds: the text would be lost).

    libxml2's HTML parser is linear in the page (no rescan of the open elements on an
    unmatched end tag, no quadratic case on runs of `<a`)."""
    text = _XML_DECLARATION.sub("", text)  # a str with an encoding declaration is refused
    parser = lxml.html.HTMLParser(recover=True, remove_pis=True)  # one per page: parsers keep state
    try:
        doc = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        return None
    meta: dict[str, str] = {}
    for el in doc.iter("meta"):
        name = (el.get("name") or el.get("property") or "").lower()
        if META_FIELDS.get(name) and (el.get("content") or "").strip():
            meta.setdefault(META_FIELDS[name], el.get("content").strip())
    title_el = doc.find(".//title")
    page_title = title_el.text_content() if title_el is not None else ""
    root = Node("#root", {})
    _convert(doc, root)
    return root, meta, page_title


def _convert(el, parent: Node) -> None:
    """Append el (an lxml element) under parent, with its text and its children's tails."""
    node = Node(el.tag, {str(k).lower(): v or "" for k, v in el.attrib.items()}, parent=parent,
                line=el.sourceline or parent.line)
    parent.children.append(node)
    if el.text:
        node.children.append((node.line, el.text))
    children = list(el)
    for k, child in enumerate(children):
        if isinstance(child.tag, str):
            _convert(child, node)
        if child.tail:
            following = children[k + 1].sourceline if k + 1 < len(children) else None
            line = following - child.tail.count("\n") if following else (child.sourceline or node.line)
            node.children.append((max(line, child.sourceline or 1), child.tail))


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
    Table), fields from <meta> tags). A page that cannot be read as HTML is read as text
    without its tags; fields["_as_text"] says so."""
    parsed = _tree(text)
    if parsed is None:
        lines = [(no, _SPACE.sub(" ", _TAG.sub(" ", line)).strip()) for no, line in enumerate(text.split("\n"), 1)]
        return [(no, line) for no, line in lines if line], {"_as_text": "1"}
    root, meta, page_title = parsed
    article = _article(root)
    body: list = []
    _lines(article, body, with_tables=True)
    outside = _outside(root, article) if article is not root else []
    lines = [(line, t) for line, t, before in outside if before] + body
    lines += [(line, t) for line, t, before in outside if not before]
    fields: dict[str, str] = {}
    if meta.get("title"):
        fields["title"] = meta["title"]
    if meta.get("published") and (date := find_date(meta["published"])):
        fields["published"] = date
    if meta.get("source"):
        fields["source"] = meta["source"]
    if "title" not in fields and page_title.strip():
        fields["page_title"] = page_title.strip()
    return lines, fields
