"""Curated Markdown: rendered with the markdown package, then read like a saved page.

The renderer is Markdown with pipe tables; raw HTML is never passed through (its block
and inline rules are off, so `<script>` is text and comes out escaped); an indented line
is a paragraph, not code; a line break inside a paragraph is kept (nl2br): a report has
one paragraph per line, as its .txt would. The HTML goes through htmlpage.extract like a
saved page, so headings, sections, tables and the five parts come out the same way.

Where each line came from: every source line carries its number through the renderer as
a tag of two Unicode noncharacters around the digits (noncharacters never occur in text;
any in the input are dropped first). A line of the HTML's text starts at the first tag it
holds; the tags are then taken out.
"""
from __future__ import annotations

import dataclasses
import re
from functools import cache

from ...model import Table

OPEN, CLOSE = "\ufdd0", "\ufdd1"
TAG = re.compile(f"{OPEN}(\\d+){CLOSE}")
_NONCHARACTERS = re.compile("[\ufdd0-\ufdef]")
# Lines that carry no text of their own: a table's delimiter row, a rule, a setext underline.
_MARKUP_ONLY = re.compile(r"\s*[-=|:*_+~\s]*")
_CLOSING_HASHES = re.compile(r"(\s+#+\s*)$")
# Asterisks that mask digits (「****年」「共**件」「20**年」) are text, not emphasis.
_COUNTERS = "年月日次件个人元万%名场余项起家户多"
_MASK = re.compile(rf"\*{{3,}}|(?<=[\u3400-\u9fff\d])\*+(?=[{_COUNTERS}\d])")
# The renderer's inline rules rescan a paragraph once per match (its link rule looks for the
# matching bracket from every "["): quadratic on a run of markers. So a bracket that is not
# part of a bounded link (_LINK; reference links are not read) and the inline markers of a
# paragraph beyond the first MAX_MARKERS are hidden from it as noncharacters (never in
# text: dropped from the input) and given back in its HTML. A report's emphasis is a few
# words, so what a person wrote renders as before.
_LINK = re.compile(r"!?\[[^\[\]\n]{0,200}\]\([^()\s]{0,500}\)")
_MARKERS = re.compile(r"[*_`]")
MAX_MARKERS = 100
_HIDDEN = {"[": "\ufdd2", "]": "\ufdd3", "*": "\ufdd4", "_": "\ufdd5", "`": "\ufdd6"}
_SHOWN = str.maketrans({hidden: plain for plain, hidden in _HIDDEN.items()})
_HIDE_BRACKETS = str.maketrans({"[": _HIDDEN["["], "]": _HIDDEN["]"]})


def lines(source: list[str], first: int) -> list[tuple[int, str | Table]]:
    """The (line, text) lines and (line, Table) tables of Markdown source lines, the first
    of them line `first` of the file."""
    from .. import htmlpage

    marked = "\n".join(_tagged(line, no) for no, line in enumerate(_bounded(source), first))
    page = f'<html><body><div class="article">\n{render(marked).translate(_SHOWN)}\n</div></body></html>'
    found, _fields = htmlpage.extract(page)
    out: list[tuple[int, str | Table]] = []
    last = first
    for _, value in found:
        if isinstance(value, Table):
            where = _first_tag(value.caption, *(cell for row in value.rows for cell in row))
            last = where or last
            rows = tuple(tuple(_untagged(cell) for cell in row) for row in value.rows)
            out.append((last, dataclasses.replace(value, rows=rows, caption=_untagged(value.caption), line=last)))
            continue
        last = _first_tag(value) or last
        text = _untagged(value)
        if text:
            out.append((last, text))
    return out


def render(text: str) -> str:
    """Markdown to HTML, raw HTML escaped."""
    converter = _converter()
    converter.reset()
    return converter.convert(text)


@cache
def _converter():
    import markdown
    from markdown.treeprocessors import Treeprocessor

    class ListNumbers(Treeprocessor):
        """An ordered list keeps its numbers as text (「1. 」): the parser reads numbering."""

        def run(self, root):
            for ordered in root.iter("ol"):
                start = int(ordered.get("start", "1") or 1)
                for k, item in enumerate(child for child in ordered if child.tag == "li"):
                    target = item
                    if not (item.text or "").strip() and len(item) and item[0].tag == "p":
                        target = item[0]
                    target.text = f"{start + k}. " + (target.text or "")

    converter = markdown.Markdown(extensions=["tables", "sane_lists", "nl2br"], output_format="html")
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    converter.parser.blockprocessors.deregister("code")
    converter.treeprocessors.register(ListNumbers(converter), "list-numbers", 1)
    return converter


def _tagged(line: str, no: int) -> str:
    """The line with its number tagged at its end, where no Markdown rule looks (before a
    table row's closing pipe and a heading's closing hashes); lines of markup alone stay
    as they are."""
    line = _MASK.sub(lambda m: "\\*" * len(m[0]), line)
    if not line.strip() or _MARKUP_ONLY.fullmatch(line):
        return line
    tag = f"{OPEN}{no}{CLOSE}"
    body = line.rstrip()
    if body.endswith("|"):
        return body[:-1] + tag + "|"
    closing = _CLOSING_HASHES.search(body) if body.lstrip().startswith("#") else None
    if closing:
        return body[: closing.start()] + tag + closing[1]
    return body + tag


def _bounded(source: list[str]) -> list[str]:
    """The lines without noncharacters, with what the renderer would take quadratic time
    over hidden (see _LINK)."""
    out, markers = [], 0
    for line in source:
        line = _NONCHARACTERS.sub("", line)
        if not line.strip():
            markers = 0  # a new paragraph
        if "[" in line or "]" in line:
            pieces, at = [], 0
            for link in _LINK.finditer(line):
                pieces += [line[at:link.start()].translate(_HIDE_BRACKETS), link[0]]
                at = link.end()
            line = "".join(pieces) + line[at:].translate(_HIDE_BRACKETS)
        found = len(_MARKERS.findall(line))
        if markers + found > MAX_MARKERS:
            line = _MARKERS.sub(lambda m: _HIDDEN[m[0]], line)
        markers += found
        out.append(line)
    return out


def _first_tag(*texts: str) -> int | None:
    for text in texts:
        found = TAG.search(text)
        if found:
            return int(found[1])
    return None


def _untagged(text: str) -> str:
    return TAG.sub("", text).strip()
