"""Compare the libraries that could read report files, on report-like files made here (see
tests/format_files.py): for PDF pdfminer.six, pypdf and pdfplumber (and site_builder's
reading of pdfplumber's words); for .docx python-docx and mammoth; for .doc catdoc and
antiword. The PDF table has one row per (PDF, library):

  cjk     share of the report's Chinese characters recovered (a font without a ToUnicode
          map: the standard STSong CID font, or an embedded font with its map removed)
  order   share of the report's paragraphs found whole and in order (line breaks and the
          page header/number lines taken out first), i.e. reading order across columns
  lines   whether the library gives each line's position on the page (what finding page
          headers, footers and numbers needs)
  tables  tables the library finds (2 per copy of the report in the 10-page file)
  ms/page extraction time per page (best of 3)

The Word tables give the time per file (best of 3) and what each keeps: Word's list
numbers, merged cells; for .doc, how many of 20 runs succeed.

Usage: python bench/readers.py
"""
from __future__ import annotations

import importlib.util
import io
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("format_files", ROOT / "tests" / "format_files.py")
ff = importlib.util.module_from_spec(_spec)
sys.modules["format_files"] = ff
_spec.loader.exec_module(ff)

CJK = re.compile(r"[\u3400-\u9fff]")
CHROME = re.compile(r"青山镇人民政府|—\s*\d+\s*—|第\s*\d+\s*页")


def pdfminer_text(data: bytes) -> tuple[list[str], int]:
    from pdfminer.high_level import extract_text

    return [extract_text(io.BytesIO(data))], 0


def pypdf_text(data: bytes) -> tuple[list[str], int]:
    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages], 0


def pdfplumber_text(data: bytes) -> tuple[list[str], int]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        texts, tables = [], 0
        for page in pdf.pages:
            texts.append(page.extract_text())
            tables += len(page.find_tables())
        return texts, tables


def site_builder_text(data: bytes) -> tuple[list[str], int]:
    """pdfplumber's words read as site_builder reads them (columns, paragraphs), or the
    error it gives (a font without a map is refused, not read as (cid:N))."""
    from site_builder.content.formats import FormatError, pdf

    try:
        found = pdf.read(data)
    except FormatError:
        return [""], 0
    return [text for _, text in found.lines], len(found.tables)


LIBRARIES = {
    "pdfminer.six": (pdfminer_text, "yes (LTTextLine)"),
    "pypdf": (pypdf_text, "no (text only)"),
    "pdfplumber": (pdfplumber_text, "yes (words, chars)"),
    "site_builder": (site_builder_text, "(pdfplumber's words)"),
}


def scores(blocks, pages: list[str]) -> tuple[float, float]:
    expected = "".join(b[1] if b[0] != "table" else "".join(map("".join, b[2])) for b in blocks)
    want = Counter(CJK.findall(expected))
    got = Counter(CJK.findall("".join(pages)))
    cjk = sum(min(n, got[ch]) for ch, n in want.items()) / sum(want.values())
    flat = re.sub(r"\s+", "", CHROME.sub("", "".join(pages)))
    at, found = 0, 0
    paragraphs = [re.sub(r"\s+", "", b[1]) for b in blocks if b[0] != "table"]
    for paragraph in paragraphs:
        where = flat.find(paragraph, at)
        if where >= 0:
            found += 1
            at = where + len(paragraph)
    return cjk, found / len(paragraphs)


def main() -> None:
    blocks = ff.report_blocks()
    cases = {
        "embedded font, 1 column": dict(),
        "embedded font, 2 columns": dict(columns=2, repeat=2),
        "STSong CID font (no ToUnicode)": dict(font="cid"),
        "embedded font, map removed": dict(font="ttf-no-unicode"),
        "10 pages, 「第 N 页」": dict(repeat=10, page_numbers="of"),
    }
    print(f"{'PDF':32} {'library':14} {'pages':>5} {'cjk':>6} {'order':>6} {'tables':>6} {'ms/page':>8}  lines")
    for name, options in cases.items():
        data = ff.pdf_of(blocks, **options)
        copies = options.get("repeat", 1)
        import pypdf

        pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        for library, (extract, lines) in LIBRARIES.items():
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                texts, tables = extract(data)
                best = min(best, time.perf_counter() - start)
            cjk, order = scores(blocks * copies, texts)
            print(f"{name:32} {library:14} {pages:5} {cjk:6.2f} {order:6.2f} {tables:6} {best / pages * 1000:8.1f}  {lines}")
    word()
    word97()


def word() -> None:
    import docx
    import mammoth

    blocks = ff.report_blocks() * 20
    document = docx.Document(io.BytesIO(ff.docx_of(blocks)))
    table = document.tables[0]
    table.cell(1, 1).merge(table.cell(2, 1))
    document.add_paragraph("第一项", style="List Number")
    out = io.BytesIO()
    document.save(out)
    data = out.getvalue()

    def python_docx():
        from site_builder.content.formats import docx as reader

        found = reader.read(data)
        return "\n".join(text for _, text in found.lines), any(t.spans for t in found.tables)

    def with_mammoth():
        page = mammoth.convert_to_html(io.BytesIO(data)).value
        return page, "rowspan" in page

    print(f"\n{'.docx (' + str(len(blocks)) + ' paragraphs)':32} {'ms/file':>8} {'numbers':>8} {'merges':>7}")
    for name, run in (("python-docx (site_builder)", python_docx), ("mammoth (to HTML)", with_mammoth)):
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            text, merges = run()
            best = min(best, time.perf_counter() - start)
        numbers = "1.第一项" in text or "1. 第一项" in text
        print(f"{name:32} {best * 1000:8.1f} {str(numbers):>8} {str(merges):>7}")


def word97() -> None:
    import shutil
    import subprocess
    import tempfile

    data = ff.doc_of(ff.report_blocks())
    tools = {"catdoc": ["catdoc", "-d", "utf-8", "-w"], "antiword": ["antiword", "-m", "UTF-8.txt", "-w", "0"]}
    print(f"\n{'.doc (minimal Word 97 file)':32} {'ms/file':>8} {'ok/20':>6}")
    with tempfile.NamedTemporaryFile(suffix=".doc") as handle:
        handle.write(data)
        handle.flush()
        for name, command in tools.items():
            if not shutil.which(command[0]):
                print(f"{name:32} {'(not installed)':>15}")
                continue
            ok, spent = 0, 0.0
            for _ in range(20):
                start = time.perf_counter()
                run = subprocess.run([*command, handle.name], capture_output=True)
                spent += time.perf_counter() - start
                ok += run.returncode == 0 and "行政复议案件" in run.stdout.decode("utf-8", "replace")
            print(f"{name:32} {spent / 20 * 1000:8.1f} {ok:6}")


if __name__ == "__main__":
    main()
