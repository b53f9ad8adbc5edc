"""The layouts of real report pages, one invented page each (tests/data/layouts).

Each raw/NNN.txt keeps the shape of a layout seen on real 信息公开 pages (breadcrumbs split
over lines, bracket and pipe tables, bullet lists with and without labels, glued labels,
widgets, document-store records, split and repeated titles, department reports, short
place forms, multi-year and masked years, …) with text written for this test. truth.jsonl
uses the layout-twin format (bench/evaluate.py --folder scores it the lenient way); here
every stated field must come out exactly.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from site_builder.content.clean import to_simplified
from site_builder.content.parse import parse_source
from site_builder.content.read import load_source

FOLDER = Path(__file__).resolve().parent / "data" / "layouts"
ROWS = [json.loads(line) for line in (FOLDER / "truth.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()]


def norm(text: str | None) -> str:
    return re.sub(r"[\s\u3000·:：,，。、\"“”《》()（）\[\]【】<>]", "", unicodedata.normalize("NFKC", text or ""))


@pytest.fixture(scope="module")
def reports():
    out = {}
    for row in ROWS:
        source, problems = load_source(FOLDER / "raw" / row["file"], row["file"])
        assert source is not None, problems
        report, problems = parse_source(source)
        assert report is not None, problems
        out[row["file"]] = report
    return out


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_layout(row, reports):
    report = reports[row["file"]]
    template = row["template_like"]
    if row["title"]:
        assert norm(report.title) == norm(row["title"])
    if not template:
        assert report.place == row["place"], "place"
        assert report.year == row["report_year"], "year"
        assert list(report.year_range) == (row["report_year_range"] or []), "year_range"
        assert report.published == row["published"], "published"
    if row["place"] and row["level"]:
        assert report.level == row["level"], "level"
    if row["index_no"]:
        assert report.index_no == row["index_no"]
    if row.get("written_date"):
        assert report.written == row["written_date"]
    if row.get("region"):
        assert report.region == row["region"]
    if row.get("place_code"):
        assert report.place_code == row["place_code"] and report.place_known
    if row.get("issuer"):
        assert row["issuer"] in report.issuer
    for noise in row["noise"]:
        assert noise.strip() not in report.text and to_simplified(noise).strip() not in report.text, noise
        assert noise.strip() not in report.title
    want = norm(to_simplified(row["first_section_heading"]))
    assert any(norm(s.heading) and want.endswith(norm(s.heading)) for s in report.sections if s.level == 1)


def test_every_removal_is_recorded(reports):
    for row in ROWS:
        report = reports[row["file"]]
        removed = "\n".join(c.before for c in report.changes)
        for noise in row["noise"]:
            assert noise.strip() in removed or to_simplified(noise).strip() in removed, (row["file"], noise)


def test_an_invented_place_is_flagged_unrecognised(reports):
    invented = [reports[r["file"]] for r in ROWS if r["place"] and not r.get("place_code") and not r["template_like"]]
    assert invented and all(not r.place_known and r.place_code is None for r in invented
                            if r.place not in ("镶黄旗",))
