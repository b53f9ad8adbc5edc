"""Compliance overview: per-year figures, per-place timelines, the SVG charts and pages."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from xml.etree import ElementTree

import jinja2

from conftest import report_text, tree
from site_builder.site import compliance
from site_builder.site.assemble import assemble_site
from site_builder.build import build
from site_builder.model import Summary


def summary(source: str, place: str, year: int | None, published: str | None = None,
            parts=(1, 2, 3, 4), flags=()) -> Summary:
    values = {f.name: None for f in fields(Summary) if f.init}
    values.update(key=source, source=source, format="txt", encoding="utf-8", sha256="", script="simplified",
                  title=f"{place}{year}年法治政府建设年度报告", title_derived=False, place=place, year=year,
                  published=published, issuer=(), issuer_derived=False, publisher=None, flags=tuple(flags),
                  parts=tuple(parts), lead="", keywords=(), sentences=b"")
    return Summary(**values)


def site_of(*summaries):
    site, problems = assemble_site(tuple(summaries))
    assert not problems
    return site


def test_year_figures():
    site = site_of(
        summary("a22.txt", "甲镇", 2022, "2023-03-20"),
        summary("b22.txt", "乙镇", 2022, "2023-05-01", flags=("late",)),
        summary("c22.txt", "丙镇", 2022, None, parts=(1, 4), flags=("placeholder",)),
        summary("a23.txt", "甲镇", 2023, "2024-04-01", parts=(1, 2, 3, 4, 5), flags=("spam-removed",)),
        summary("d23.txt", "丁镇", 2023, "2024-03-01", flags=("template", "placeholder")),
        summary("x.txt", "戊镇", None),
    )
    stats = {s.year: s for s in compliance.year_stats(site)}
    assert [s.year for s in compliance.year_stats(site)] == [2023, 2022]  # newest first, undated left out
    y22, y23 = stats[2022], stats[2023]
    assert (y22.reports, y22.places, y22.on_time, y22.late, y22.undated) == (3, 3, 1, 1, 1)
    assert y22.on_time_rate == 0.5
    assert y22.parts == (3, 2, 2, 3, 0) and y22.placeholder == 1 and y22.spam == 0
    assert (y23.on_time, y23.late, y23.on_time_rate) == (2, 0, 1.0)
    assert y23.parts[4] == 1 and y23.placeholder == 1 and y23.spam == 1
    # places that published in 2022 but not in 2023
    names = {p.key: p.name for p in site.places}
    assert sorted(names[k] for k in y23.absent) == ["丙镇", "乙镇"]
    assert y22.absent == ()
    assert compliance.on_time(summary("u.txt", "甲镇", 2024)) is None


def test_place_timeline_shows_gaps():
    site = site_of(summary("a19.txt", "甲镇", 2019, "2020-03-01"), summary("a22.txt", "甲镇", 2022, "2023-06-01",
                                                                   flags=("late",)))
    timeline = compliance.place_timeline(list(site.entries))
    assert [t.year for t in timeline] == [2019, 2020, 2021, 2022]
    assert [len(t.rows) for t in timeline] == [1, 0, 0, 1]
    assert timeline[0].rows[0].on_time is True and timeline[3].rows[0].on_time is False
    assert compliance.place_timeline([]) == ()


def test_bar_chart_is_labelled_escaped_svg():
    svg = str(compliance.bar_chart("图<表>", [("2023年", 0.5, "50%"), ("<b>", 2.0, "200%")]))
    tree = ElementTree.fromstring(svg)
    assert tree.get("role") == "img" and tree.get("aria-label") == "图<表>"
    bars = [r for r in tree.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar"]
    assert [float(b.get("width")) for b in bars] == [180.0, 360.0]  # half, and capped at full
    texts = [t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["2023年", "50%", "<b>", "200%"]


def test_compliance_pages_are_built_and_follow_their_reports(tmp_path: Path, small_archive: Path, monkeypatch):
    out = tmp_path / "out"
    assert build(small_archive, out).ok
    overview = (out / "compliance/index.html").read_text(encoding="utf-8")
    assert 'href="../compliance/2024/"' in overview and 'href="../compliance/2023/"' in overview
    assert overview.count('<svg class="chart"') == 2
    year = (out / "compliance/2024/index.html").read_text(encoding="utf-8")
    assert 'href="../../compliance/2024/430000/"' in year  # the year's provinces, each a page of rows

    def rows(value: int) -> str:
        return "".join(p.read_text(encoding="utf-8") for p in sorted((out / f"compliance/{value}").glob("*/index.html")))

    assert "reports/yanpi-2024/" in rows(2024) and "reports/hebei-qingshan-2024/" in rows(2024)
    assert "日期不详" in rows(2024)  # the small archive states no publication dates
    assert "未收录（往年有报告）" not in rows(2024) and "reports/yanpi-2023/" in rows(2023)
    html = (out / "places/430421105/index.html").read_text(encoding="utf-8")  # 演陂镇
    timeline = html[html.index("历年公开情况"):]
    assert timeline.index("2023年") < timeline.index("2024年")
    # an edit that leaves the report's row as it was (its body) does not render the year page again
    rendered, real_render = [], jinja2.Template.render
    monkeypatch.setattr(jinja2.Template, "render",
                        lambda self, *a, **k: rendered.append(self.name) or real_render(self, *a, **k))
    (small_archive / "yanpi-2024.txt").write_text(report_text("演陂镇", 2024, "新增一句。"), encoding="utf-8")
    assert build(small_archive, out).ok
    assert "report.html" in rendered
    assert "compliance_year.html" not in rendered and "compliance_region.html" not in rendered
    fresh = tmp_path / "fresh"
    assert build(small_archive, fresh).ok and tree(out) == tree(fresh)
    # a new publication date changes the year page on the next build
    (small_archive / "yanpi-2024.txt").write_text(
        report_text("演陂镇", 2024).replace("现将", "发布日期：2025-03-10\n现将", 1), encoding="utf-8")
    assert build(small_archive, out).ok
    assert "2025-03-10" in rows(2024) and "✓ 按时" in rows(2024)


def test_a_generated_size_archive_adds_up():
    sums = [summary(f"r{i}.txt", f"镇{i % 300}", 2018 + i % 8, f"{2019 + i % 8}-0{1 + i % 6}-15",
                    flags=("late",) if i % 6 >= 3 else ()) for i in range(1000)]
    stats = compliance.year_stats(site_of(*sums))
    assert sum(s.reports for s in stats) == 1000
    assert all(s.on_time + s.late + s.undated == s.reports for s in stats)
    assert all(len(set(s.absent)) == len(s.absent) for s in stats)
