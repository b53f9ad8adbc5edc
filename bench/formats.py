"""Time to read and parse one report in each format (the same report, tests/format_files.py),
per file and per page: the format's reader (load_source: PDF, Word, Markdown rendering
happen in parse) and the whole of parse_file (reader, cleaning, metadata, sections).

Usage: python bench/formats.py [--pages N]   (N: pages of the long PDF, default 10)
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("format_files", ROOT / "tests" / "format_files.py")
ff = importlib.util.module_from_spec(_spec)
sys.modules["format_files"] = ff
_spec.loader.exec_module(ff)

from site_builder.content.read import load_source  # noqa: E402
from site_builder.content.stage import parse_file  # noqa: E402


def best(run, times: int = 5) -> float:
    result = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        run()
        result = min(result, time.perf_counter() - start)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10, help="pages of the long PDF (default 10)")
    args = parser.parse_args()
    blocks = ff.report_blocks()
    copies = max(1, round(args.pages / 0.7))  # the report is about 0.7 of a page
    files = {
        "txt": ff.text_of(blocks).encode("utf-8"),
        "html": ff.html_of(blocks).encode("utf-8"),
        "md": ff.markdown_of(blocks).encode("utf-8"),
        "pdf": ff.pdf_of(blocks, break_after=7),
        "pdf (2 columns)": ff.pdf_of(blocks, columns=2, repeat=2),
        "pdf (long)": ff.pdf_of(blocks, repeat=copies, page_numbers="of"),
        "docx": ff.docx_of(blocks),
        "docx (long)": ff.docx_of(blocks * copies),
    }
    if shutil.which("catdoc"):
        files["doc"] = ff.doc_of(blocks)
        files["doc (long)"] = ff.doc_of(blocks * copies)
    with tempfile.TemporaryDirectory() as folder:
        parse_file(Path(__file__), "warm-up.txt")  # load the parser's tables once
        print(f"{'format':16} {'bytes':>8} {'pages':>5} {'read ms':>8} {'parse ms':>9} {'ms/page':>8}")
        for name, data in files.items():
            suffix = name.split()[0]
            path = Path(folder) / f"r.{suffix}"
            path.write_bytes(data)
            source, problems = load_source(path, path.name)
            assert source is not None, problems
            report, problems = parse_file(path, path.name)
            assert report is not None and len(report.sections) >= 6, problems
            read = best(lambda: load_source(path, path.name))
            whole = best(lambda: parse_file(path, path.name))
            pages = len(source.pages) or 1
            shown = str(len(source.pages)) if source.pages else "-"
            print(f"{name:16} {len(data):8} {shown:>5} {read * 1000:8.1f} {whole * 1000:9.1f} {whole / pages * 1000:8.1f}")


if __name__ == "__main__":
    main()
