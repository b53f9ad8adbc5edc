"""Report files that are not text: each document format's reader, and what they share.

A reader (pdf, docx, doc) turns a file's bytes into an `Extracted`: the text a person can
check (shown as the report's 原文, one line per line of print), the paragraphs the parser
reads as (line of that text, paragraph), the tables found, and the page headers, footers
and numbers taken out, recorded as changes. Markdown is text: `markdown` renders it to HTML
for htmlpage. A file that cannot be read raises FormatError with a message for the person
who put it there.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from ...model import Change, Source, Table

# Suffix -> format, of the formats read by a reader here (read.py knows the text ones).
SUFFIXES = {".pdf": "pdf", ".docx": "docx", ".doc": "doc", ".wps": "wps", ".ofd": "ofd"}
DOCUMENTS = frozenset(SUFFIXES.values())  # formats whose Source holds an Extracted's parts


class FormatError(ValueError):
    """A file that cannot be read as its format; the message says why and what to do
    (Chinese, with English in parentheses)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str  # the text read out, "\n"-separated lines
    lines: tuple[tuple[int, str], ...]  # the paragraphs: (1-based line of `text` where it starts, text)
    tables: tuple[Table, ...] = ()  # each with `line`: the line of `text` of its first row
    changes: tuple[Change, ...] = ()  # page chrome taken out of `lines` (kind "chrome")
    pages: tuple[int, ...] = ()  # paged formats: the line of `text` where each page starts


_WIDE = re.compile(r"[\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef]")


def join_text(before: str, after: str) -> str:
    """Two pieces of one paragraph broken across lines: joined without a space when
    either side of the break is Chinese (or fullwidth punctuation), else with one."""
    if not before or not after:
        return before + after
    if _WIDE.match(before[-1]) or _WIDE.match(after[0]):
        return before + after
    return before + " " + after


# Formats no maintained library reads (OFD: easyofd renders it through PyMuPDF, under the
# AGPL; WPS: Kingsoft's own format): refused with what to do instead.
UNREAD = {
    "ofd": "OFD 版式文件（.ofd）暂不能直接读取；请用 OFD 阅读器导出为 PDF，或把正文另存为 .txt（.ofd files are not read: export a PDF）",
    "wps": "WPS 文字文件（.wps）暂不能直接读取；请在 WPS 中另存为 .docx 或 .pdf（.wps files are not read: save as .docx）",
}


# Word files are often renamed: one named .doc may be a .docx (a zip), and the other way round.
_WORD_BY_CONTENT = ((b"PK\x03\x04", "docx"), (b"\xd0\xcf\x11\xe0", "doc"))


def extract(fmt: str, raw: bytes) -> Extracted:
    """Read a document format's bytes (`fmt` a value of SUFFIXES). Raises FormatError."""
    if fmt in UNREAD:
        raise FormatError(UNREAD[fmt])
    if fmt in ("doc", "docx"):
        fmt = next((word for magic, word in _WORD_BY_CONTENT if raw.startswith(magic)), fmt)
    module = importlib.import_module(f"{__name__}.{fmt}")  # each reader loads its library when used
    return module.read(raw)


def stream(source: Source) -> list[tuple[int, str | Table]]:
    """The parser's lines of a document format's Source: its paragraphs, and each table
    before the first paragraph that starts after it."""
    entries: list[tuple[int, int, str | Table]] = [(line, 1, text) for line, text in source.lines]
    entries += [(table.line, 0, table) for table in source.tables]
    entries.sort(key=lambda entry: entry[:2])
    return [(line, value) for line, _, value in entries]
