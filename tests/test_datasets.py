"""Data downloads: reports.json, reports.csv (safe in a spreadsheet), robots.txt, and the
per-report JSON with keywords and similar reports."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import fields
from pathlib import Path

from site_builder.site import datasets
from site_builder.site.assemble import assemble_site
from site_builder.build import build
from site_builder.config import SiteConfig
from site_builder.model import Summary

DANGEROUS = ["=HYPERLINK(\"http://x\")", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]


def summary(source: str, **values) -> Summary:
    data = {f.name: None for f in fields(Summary) if f.init}
    data.update(key=source, source=source, format="txt", encoding="utf-8", sha256="", script="simplified",
                title="标题", title_derived=False, issuer=(), flags=(), parts=(1, 2), lead="", keywords=(),
                sentences=b"", year=2023, place="演陂镇")
    data.update(values)
    return Summary(**data)


def test_csv_cells_never_become_formulas():
    site, _ = assemble_site((
        summary("a.txt", title=DANGEROUS[0], place=DANGEROUS[1], region=DANGEROUS[2], issuer=(DANGEROUS[3],),
                doc_no=DANGEROUS[4], index_no=DANGEROUS[5], keywords=("=1+1", "行政复议")),
        summary("b.txt", title="演陂镇2023年法治政府建设年度报告", published="2024-03-01"),
    ))
    data = datasets.reports_csv(site, SiteConfig())
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(datasets.FIELDS)
    assert len(rows) == 3 and all(len(r) == len(datasets.FIELDS) for r in rows)
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    record = dict(zip(rows[0], rows[1]))
    assert record["title"] == "'" + DANGEROUS[0] and record["doc_no"] == "'" + DANGEROUS[4]
    assert record["keywords"] == "'=1+1；行政复议"
    ok = dict(zip(rows[0], rows[2]))
    assert ok["title"] == "演陂镇2023年法治政府建设年度报告" and ok["published"] == "2024-03-01"
    assert ok["on_time"] == "是" and ok["parts"] == "1；2" and ok["url"] == "/reports/b/"


def test_json_and_robots_with_and_without_base_url():
    site, _ = assemble_site((summary("a.txt"),))
    config = SiteConfig(base_url="https://example.org", base_path="/archive/")
    data = json.loads(datasets.reports_json(site, config))
    assert data["count"] == 1 and set(data["reports"][0]) == set(datasets.FIELDS)
    assert data["reports"][0]["url"] == "https://example.org/archive/reports/a/"
    assert data["reports"][0]["on_time"] is None
    assert datasets.robots_txt(config).decode() == (
        "User-agent: *\nAllow: /\nSitemap: https://example.org/archive/sitemap.xml\n")
    assert "Sitemap" not in datasets.robots_txt(SiteConfig()).decode()
    # the same site gives the same bytes
    assert datasets.reports_json(site, config) == datasets.reports_json(site, config)


def test_downloads_of_the_sample_archive(tmp_path: Path):
    from conftest import SAMPLES

    out = tmp_path / "out"
    result = build(SAMPLES, out)
    assert result.ok
    data = json.loads((out / "reports.json").read_text(encoding="utf-8"))
    ids = [r["id"] for r in data["reports"]]
    assert ids == sorted(e.id for e in result.site.entries) and len(ids) == 5
    for r in data["reports"]:
        assert (out / r["url"].lstrip("/") / "index.html").exists()
        for key in ("json_url", "original_url", "original_file_url"):
            assert (out / r[key].lstrip("/")).exists(), key
        assert r["keywords"] and all(isinstance(w, str) and len(w) >= 2 for w in r["keywords"])
    yanpi = next(r for r in data["reports"] if r["id"] == "yanpi-zhen-2024")
    assert "spam-removed" in yanpi["flags"] and "placeholder" in yanpi["flags"]
    # where each report is in the region tree: the chain of names and the division's code (a
    # place the gazetteer does not list: under its county, with the county's code)
    assert (yanpi["region_chain"], yanpi["division_code"]) == (["湖南省", "衡阳市", "衡阳县", "演陂镇"], "430421105")
    anhua = next(r for r in data["reports"] if r["id"] == "anhua-chengnanqu-2023")
    assert (anhua["region_chain"], anhua["division_code"]) == (["湖南省", "益阳市", "安化县", "城南区"], "430923")
    rows = list(csv.DictReader(io.StringIO((out / "reports.csv").read_bytes().decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == ids
    by_id = {r["id"]: r for r in rows}
    assert by_id["anhua-chengnanqu-2023"]["region_chain"] == "湖南省；益阳市；安化县；城南区"
    assert by_id["yanpi-zhen-2024"]["division_code"] == "430421105"
    one = json.loads((out / "reports/yanpi-zhen-2024/report.json").read_text(encoding="utf-8"))
    assert one["keywords"] == yanpi["keywords"] and "similar" in one
    assert (out / "robots.txt").read_text() == "User-agent: *\nAllow: /\n"
    page = (out / "data/index.html").read_text(encoding="utf-8")
    assert 'href="../reports.csv"' in page and 'href="../reports.json"' in page
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    assert "/compliance/</loc>" in sitemap and "/data/</loc>" in sitemap


def test_keywords_are_script_independent_and_skip_stock_words():
    from site_builder.text.words import KEYWORD_STOP, keywords

    text = ("本镇深化行政复议体制改革，行政复议案件全部依法办结。推进公平竞争审查，"
            "开展公平竞争审查培训。法治政府建设工作扎实推进。" * 3)
    words = keywords(text, k=5)
    assert 0 < len(words) <= 5
    assert "行政复议" in words and "公平竞争审查" in words
    assert not set(words) & KEYWORD_STOP
    traditional = text.replace("复议", "複議").replace("审查", "審查").replace("竞争", "競爭")
    assert keywords(traditional, k=5) == words


def test_feed_and_sitemap_are_well_formed(tmp_path: Path, small_archive: Path):
    from xml.etree import ElementTree

    out = tmp_path / "out"
    assert build(small_archive, out).ok
    feed = ElementTree.parse(out / "feed.xml").getroot()
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 3
    sitemap = ElementTree.parse(out / "sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "/compliance/2024/" in locs and "/data/" in locs and len(locs) == len(set(locs))
