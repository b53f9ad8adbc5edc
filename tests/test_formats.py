"""Reports in the formats they are published in: PDF, Word (.docx, .doc), Markdown and
saved pages with tables, each file made here by the format's own writer (format_files),
read by the real readers (pdfplumber, python-docx, catdoc, the markdown package)."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import format_files as ff
from browser_site import require
from site_builder.content.stage import parse_file
from site_builder.model import Table

HEADINGS = ["2023年推进法治政府建设的主要举措和成效", "加强组织领导", "依法化解行政争议", "存在的不足和原因",
            "党政主要负责人履行推进法治建设第一责任人职责情况", "2024年工作安排"]


def read(tmp_path: Path, name: str, data: bytes | str):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return parse_file(path, name)


def report_of(tmp_path: Path, name: str, data: bytes | str):
    report, problems = read(tmp_path, name, data)
    assert report is not None, [str(p) for p in problems]
    assert not [p for p in problems if p.severity == "error"], problems
    return report


def error_of(tmp_path: Path, name: str, data: bytes | str) -> str:
    report, problems = read(tmp_path, name, data)
    assert report is None
    assert len(problems) == 1 and problems[0].severity == "error", problems
    message = problems[0].message
    assert "（" in message and message.endswith("）") and "；请" in message, message  # Chinese, what to do, English
    return message


def case_table(report) -> Table:
    assert len(report.tables) == 1, report.tables
    table = report.tables[0]
    assert table.rows == ff.CASE_TABLE
    return table


def assert_report_shape(report) -> None:
    assert report.title == "青山镇2023年法治政府建设年度报告"
    assert report.place == "青山镇" and report.year == 2023
    assert [s.heading for s in report.sections] == HEADINGS
    assert [s.part for s in report.sections if s.level == 1] == [1, 2, 3, 4]


# ---------------------------------------------------------------- PDF
def test_pdf_text_sections_and_table(tmp_path):
    report = report_of(tmp_path, "r.pdf", ff.pdf_of(ff.report_blocks(), bullets=False))
    assert_report_shape(report)
    table = case_table(report)
    assert table.caption == "表1 行政复议和行政诉讼案件情况" and table.head == 1
    # In the section it was printed in, after its paragraph; its cells in the search text.
    assert report.sections[table.section - 1].heading == "依法化解行政争议" and table.after == 1
    assert "行政复议案件 12 15" in report.text
    assert report.format == "pdf" and report.encoding == "" and report.pages == (1,)
    assert "类别\t2022年\t2023年" in report.extracted_text


def test_pdf_page_headers_footers_and_numbers_are_removed_and_recorded(tmp_path):
    blocks = ff.report_blocks()
    data = ff.pdf_of(blocks, repeat=1, page_numbers="of", break_after=7, bullets=False)
    report = report_of(tmp_path, "r.pdf", data)
    assert len(report.pages) == 2
    chrome = [c for c in report.changes if c.kind == "chrome"]
    assert sorted(c.before for c in chrome) == ["第 1 页", "第 2 页", "青山镇人民政府", "青山镇人民政府"]
    assert {report.where(c.line) for c in chrome} == {"第1页第1行", "第2页第1行", f"第1页第{report.pages[1] - 1}行",
                                                     f"第2页第{len(report.extracted_text.split(chr(10))) - report.pages[1] + 1}行"}
    assert "青山镇人民政府" not in report.text and "第 1 页" not in report.text
    assert "青山镇人民政府" in report.extracted_text  # the 原文 keeps them
    assert_report_shape(report)


def test_pdf_in_two_columns_reads_column_by_column(tmp_path):
    report = report_of(tmp_path, "r.pdf", ff.pdf_of(ff.report_blocks(), columns=2, bullets=False))
    assert_report_shape(report)
    # Lines broken at the column's edge are one paragraph again.
    assert "青山镇党委、政府把法治政府建设摆在全局工作的重要位置，定期研究部署，层层压实责任。" in report.text.split("\n")


def test_pdf_with_the_standard_cid_font_and_no_unicode_map_is_read(tmp_path):
    assert_report_shape(report_of(tmp_path, "r.pdf", ff.pdf_of(ff.report_blocks(), font="cid")))


def test_pdf_whose_font_has_no_unicode_map_is_a_clear_error(tmp_path):
    message = error_of(tmp_path, "r.pdf", ff.pdf_of(ff.report_blocks(), font="ttf-no-unicode"))
    assert "Unicode 映射" in message


def test_scanned_pdf_is_a_clear_error(tmp_path):
    message = error_of(tmp_path, "scan.pdf", ff.scan_pdf())
    assert "没有文字层" in message and "扫描件" in message and "no text layer" in message


@pytest.mark.parametrize("damage", ["cut", "garbage", "html"])
def test_damaged_pdf_is_a_clear_error(tmp_path, damage):
    whole = ff.pdf_of(ff.report_blocks())
    data = {"cut": whole[: len(whole) // 3], "garbage": bytes(range(256)) * 40,
            "html": b"<html><body>404 Not Found</body></html>"}[damage]
    assert "已损坏" in error_of(tmp_path, "r.pdf", data)


# ---------------------------------------------------------------- Word
def test_docx_headings_lists_and_table(tmp_path):
    import docx

    document = docx.Document(io.BytesIO(ff.docx_of(ff.report_blocks())))
    document.add_paragraph("附：第一项安排", style="List Number")
    document.add_paragraph("附：第二项安排", style="List Number")
    out = io.BytesIO()
    document.save(out)
    report = report_of(tmp_path, "r.docx", out.getvalue())
    # Word's numbering written out: the parser reads 「1.」 as numbering
    assert [s.number + s.heading for s in report.sections[-2:]] == ["1.附：第一项安排", "2.附：第二项安排"]
    assert [s.heading for s in report.sections[:-2]] == HEADINGS
    table = case_table(report)
    assert table.caption == "表1 行政复议和行政诉讼案件情况" and table.head == 1
    assert report.sections[table.section - 1].heading == "依法化解行政争议"
    assert report.sections[-3].text.split("\n") == ["深化行政执法三项制度，规范执法程序。", "开展法治宣传进村入户活动，提高群众法治意识。"]
    assert report.format == "docx" and "行政诉讼案件 3 2" in report.text


def test_docx_merged_cells_are_kept_as_spans(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("青山镇2023年法治政府建设年度报告")
    document.add_paragraph("一、2023年推进法治政府建设的主要举措和成效")
    document.add_paragraph("全年办理行政复议案件情况如下表所示，案件数量总体平稳。")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("类别", "数量", ""), ("行政复议", "12", "件"), ("行政诉讼", "3", "件")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(0, 1).merge(table.cell(0, 2))
    out = io.BytesIO()
    document.save(out)
    report = report_of(tmp_path, "r.docx", out.getvalue())
    (found,) = report.tables
    assert found.spans == ((0, 1, 1, 2),) and found.rows[0] == ("类别", "数量", "")
    assert [[cell[:3] for cell in row] for row in found.cells()][0] == [("类别", 1, 1), ("数量", 1, 2)]


def test_docx_zip_bomb_is_refused_at_once(tmp_path):
    bomb = ff.zip_bomb_docx()
    assert len(bomb) < 5_000_000
    start = time.perf_counter()
    message = error_of(tmp_path, "bomb.docx", bomb)
    assert time.perf_counter() - start < 1.0
    assert "压缩炸弹" in message and "zip bomb" in message


def test_damaged_docx_is_a_clear_error(tmp_path):
    assert "不是有效的 .docx" in error_of(tmp_path, "r.docx", ff.docx_of(ff.report_blocks())[:3000])
    assert "不是有效的 .docx" in error_of(tmp_path, "r.docx", b"not a zip at all")


def test_doc_is_read_with_catdoc(tmp_path):
    require(bool(shutil.which("catdoc")), "catdoc")
    report = report_of(tmp_path, "r.doc", ff.doc_of(ff.report_blocks()))
    assert_report_shape(report)
    assert case_table(report).caption == "表1 行政复议和行政诉讼案件情况"
    assert report.format == "doc"


def test_doc_without_catdoc_names_the_tool(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    message = error_of(tmp_path, "r.doc", ff.doc_of(ff.report_blocks()))
    assert "catdoc" in message and "apt-get install catdoc" in message


def test_a_docx_named_doc_is_read_as_docx(tmp_path):
    assert_report_shape(report_of(tmp_path, "r.doc", ff.docx_of(ff.report_blocks())))


@pytest.mark.parametrize("suffix,name", [(".ofd", "OFD"), (".wps", "WPS")])
def test_ofd_and_wps_are_refused_naming_the_format(tmp_path, suffix, name):
    assert name in error_of(tmp_path, "r" + suffix, b"PK\x03\x04 some bytes")


# ---------------------------------------------------------------- Markdown
def test_markdown_tables_lists_emphasis_links_and_front_matter(tmp_path):
    front = '---\nyear = 2023\npublished = "2024-03-20"\n---'
    text = ff.markdown_of(ff.report_blocks(), front=front).replace(
        "层层压实责任。", "层层**压实**责任，详见[工作台账](https://example.org/a)。")
    report = report_of(tmp_path, "r.md", text)
    assert_report_shape(report)
    assert report.published == "2024-03-20"
    table = case_table(report)
    assert table.caption == "表1 行政复议和行政诉讼案件情况" and table.head == 1
    lines = text.split("\n")
    assert lines[table.line - 1].startswith("| 类别")  # positions are lines of the Markdown file
    assert report.sections[1].text == "青山镇党委、政府把法治政府建设摆在全局工作的重要位置，定期研究部署，层层压实责任，详见工作台账。"
    assert report.sections[1].line == lines.index("（一）加强组织领导") + 1
    assert report.sections[-1].text.split("\n") == ["深化行政执法三项制度，规范执法程序。", "开展法治宣传进村入户活动，提高群众法治意识。"]


def test_markdown_raw_html_is_text_never_markup(tmp_path):
    text = ff.markdown_of(ff.report_blocks()).replace(
        "案件数量总体平稳。", '案件数量总体平稳。<script>alert(1)</script><img src=x onerror="alert(2)">')
    report = report_of(tmp_path, "r.md", text)
    assert '案件数量总体平稳。<script>alert(1)</script><img src=x onerror="alert(2)">' in report.text


def test_markdown_masked_digits_and_numbered_lists_keep_their_text(tmp_path):
    text = ff.markdown_of(ff.report_blocks()).replace("案件数量总体平稳。", "共受理**件，办结****件，2023年新增20**件。")
    text += "\n1. 深化改革。\n2. 强化监督。\n"
    report = report_of(tmp_path, "r.md", text)
    assert "共受理**件，办结****件，2023年新增20**件。" in report.text
    assert "masked-digits" in report.flags
    assert [s.number + s.heading for s in report.sections[-2:]] == ["1.深化改革", "2.强化监督"]


# ---------------------------------------------------------------- saved pages
def test_saved_page_keeps_its_data_table_and_reads_its_metadata_table(tmp_path):
    page = ff.html_of(ff.report_blocks()).replace(
        '<div class="TRS_Editor">',
        '<table class="xxgk"><tr><td>索引号：</td><td>11441700007280420Y/2024-00050</td>'
        '<td>发布机构：</td><td>青山镇人民政府</td></tr><tr><td>发布日期：</td><td>2024-03-20</td>'
        '<td>文号：</td><td>青府〔2024〕3号</td></tr></table>\n<div class="TRS_Editor">')
    report = report_of(tmp_path, "r.html", page)
    assert_report_shape(report)
    table = case_table(report)
    assert table.caption == "表1 行政复议和行政诉讼案件情况" and table.head == 1
    assert report.index_no == "11441700007280420Y/2024-00050" and report.published == "2024-03-20"


def test_a_hostile_table_stays_bounded(tmp_path):
    cells = "".join(f'<td colspan="99999" rowspan="99999">{k}</td>' for k in range(3))
    page = ff.html_of(ff.report_blocks()).replace("<caption>", f"<tr>{cells}</tr><caption>")
    report = report_of(tmp_path, "r.html", page)
    assert all(len(row) <= 60 for t in report.tables for row in t.rows)


# ---------------------------------------------------------------- the command line
def test_parse_command_on_an_unreadable_format_says_so(tmp_path):
    (tmp_path / "report.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "scan.pdf").write_bytes(ff.scan_pdf())
    run = subprocess.run([sys.executable, "-m", "site_builder.cli", "parse", "report.xlsx", "scan.pdf"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "report.xlsx:1: error: 不支持 .xlsx 格式的文件" in run.stderr
    assert "scan.pdf:1: error: PDF 没有文字层" in run.stderr
