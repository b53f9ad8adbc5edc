"""Word 97-2003 documents (.doc), read by the Debian tool catdoc (`apt-get install catdoc`).

catdoc writes the text as UTF-8, a paragraph per line (-w), a table's cells separated by
tabs; two or more lines in a row with the same number (two or more) of tab-separated
cells are read back as a table. catdoc reads the text in file order: a document Word
"fast-saved" (rare since Word 2003) may come out in the wrong order. (antiword, the other
Debian reader, crashed on half the runs of a small test document, so its output would
depend on the run: a build must be deterministic.)
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from . import Extracted, FormatError, tables

TIMEOUT = 60  # seconds: a report takes milliseconds
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

MISSING_TOOL = ("读取 .doc 文件需要 catdoc 程序，本机未安装；请安装（apt-get install catdoc），或用 Word/WPS 把文件另存为 .docx"
                "（reading .doc needs catdoc, which is not installed）")
NOT_DOC = ("不是有效的 Word 97-2003 文档（.doc），可能已损坏或只是改了扩展名；请用 Word 或 WPS 打开后另存为 .docx"
           "（not a valid .doc file）")


def read(raw: bytes) -> Extracted:
    if not raw.startswith(OLE_MAGIC):
        raise FormatError(NOT_DOC)
    tool = shutil.which("catdoc")
    if tool is None:
        raise FormatError(MISSING_TOOL)
    with tempfile.NamedTemporaryFile(suffix=".doc") as handle:
        handle.write(raw)
        handle.flush()
        try:
            done = subprocess.run([tool, "-d", "utf-8", "-w", handle.name], capture_output=True, timeout=TIMEOUT,
                                  env={**os.environ, "LC_ALL": "C.UTF-8"})
        except subprocess.TimeoutExpired:
            raise FormatError(f"catdoc 读取 .doc 超过 {TIMEOUT} 秒未完成，文件可能已损坏；请另存为 .docx"
                              f"（catdoc timed out）") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip()[:120] or f"exit {done.returncode}"
        raise FormatError(f"{NOT_DOC[:-1]}: {reason})")
    text = done.stdout.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return _extracted(lines)


def _extracted(lines: list[str]) -> Extracted:
    paragraphs: list[tuple[int, str]] = []
    found: list = []
    k = 0
    while k < len(lines):
        width = _cells(lines[k])
        end = k
        while width >= 2 and end < len(lines) and _cells(lines[end]) == width:
            end += 1
        table = tables.make([[(cell, 1, 1, False) for cell in lines[r].split("\t")] for r in range(k, end)],
                            line=k + 1) if end - k >= 2 else None
        if table is not None:
            found.append(table)
            k = end
            continue
        if lines[k].strip():
            paragraphs.append((k + 1, " ".join(lines[k].split("\t")).strip()))
        k += 1
    return Extracted(text="\n".join(lines), lines=tuple(paragraphs), tables=tuple(found))


def _cells(line: str) -> int:
    return line.count("\t") + 1 if "\t" in line.strip("\t") else 0
