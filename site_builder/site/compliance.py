"""Compliance overview: who published, on time, with the five mandated parts, per year and
per place; and the simple bar charts that show it, drawn as inline SVG at build time.

Pure functions of the Site's summaries, each one pass over the entries (O(n)).
A report is on time when it was published by 1 April of the following year (the "late"
flag of the parser); a report without a publication date counts as neither.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

from markupsafe import Markup

from ..model import PARTS, Entry, Site, Summary


def on_time(report: Summary) -> bool | None:
    """True: published by 1 April of the next year; False: later; None: unknown."""
    if not report.published or not report.year:
        return None
    return "late" not in report.flags


@dataclass(frozen=True, slots=True)
class YearStats:
    year: int
    reports: int
    places: int  # places with a report this year
    on_time: int
    late: int
    undated: int  # no publication date
    parts: tuple[int, ...]  # reports covering mandated part 1..5
    placeholder: int  # reports with template placeholders (XX, ××, 某某) or templates
    spam: int  # reports from which injected spam was removed
    absent: tuple[str, ...] = ()  # keys of places that published in an earlier year, not this one

    @property
    def on_time_rate(self) -> float | None:
        known = self.on_time + self.late
        return self.on_time / known if known else None

    def part_rate(self, part: int) -> float:
        return self.parts[part - 1] / self.reports if self.reports else 0.0


class Row(NamedTuple):
    """One report in a compliance table (a named tuple: made for every report on every
    build, and a frozen dataclass costs three times as much to make)."""

    id: str
    place_key: str
    title: str
    level: str | None
    published: str | None
    on_time: bool | None
    parts: tuple[int, ...]
    placeholder: bool
    spam: bool


def row(entry: Entry) -> Row:
    r = entry.report
    flags = r.flags
    return Row(entry.id, entry.place_key, r.title, r.level, r.published, on_time(r), r.parts,
               "placeholder" in flags or "template" in flags, "spam-removed" in flags)


class Tally(NamedTuple):
    """The figures of some rows (a province's in one year)."""

    reports: int
    places: int
    on_time: int
    late: int
    undated: int  # no publication date


def tally(rows) -> Tally:
    return Tally(len(rows), len({r.place_key for r in rows}), sum(1 for r in rows if r.on_time is True),
                 sum(1 for r in rows if r.on_time is False), sum(1 for r in rows if r.on_time is None))


def year_stats(site: Site, by_year: dict[int, tuple[Row, ...]] | None = None) -> tuple[YearStats, ...]:
    """One YearStats per report year, newest first; `by_year`: rows_by_year(site), if the
    caller has it already."""
    if by_year is None:
        by_year = rows_by_year(site)
    first_year: dict[str, int] = {}
    for year in sorted(by_year, reverse=True):
        first_year.update((r.place_key, year) for r in by_year[year])
    places_by_first: dict[int, list[str]] = defaultdict(list)
    for key, year in first_year.items():
        places_by_first[year].append(key)

    stats = []
    seen: set[str] = set()  # places with a report in an earlier year
    for year in sorted(by_year):
        rows = by_year[year]
        here = {r.place_key for r in rows}
        stats.append(YearStats(
            year=year,
            reports=len(rows),
            places=len(here),
            on_time=sum(1 for r in rows if r.on_time is True),
            late=sum(1 for r in rows if r.on_time is False),
            undated=sum(1 for r in rows if r.on_time is None),
            parts=tuple(sum(1 for r in rows if part in r.parts) for part in PARTS),
            placeholder=sum(1 for r in rows if r.placeholder),
            spam=sum(1 for r in rows if r.spam),
            absent=tuple(sorted(seen - here)),
        ))
        seen.update(places_by_first[year])
    return tuple(reversed(stats))


def rows_by_year(site: Site) -> dict[int, tuple[Row, ...]]:
    """The rows of every dated report, by year, in one pass (entries stay in id order)."""
    rows: dict[int, list[Row]] = defaultdict(list)
    for entry in site.entries:
        if entry.report.year is not None:
            rows[entry.report.year].append(row(entry))
    return {year: tuple(found) for year, found in rows.items()}


@dataclass(frozen=True, slots=True)
class TimelineYear:
    year: int
    rows: tuple[Row, ...]  # the place's reports of that year; () = none found


def place_timeline(entries: list[Entry]) -> tuple[TimelineYear, ...]:
    """Every year from the place's first report to its last, oldest first, with its reports."""
    by_year: dict[int, list[Row]] = defaultdict(list)
    for entry in entries:
        if entry.report.year is not None:
            by_year[entry.report.year].append(row(entry))
    if not by_year:
        return ()
    return tuple(TimelineYear(y, tuple(sorted(by_year.get(y, ()), key=lambda r: r.id)))
                 for y in range(min(by_year), max(by_year) + 1))


# --- charts ------------------------------------------------------------------------------

def bar_chart(label: str, bars: list[tuple[str, float, str]], scale: float = 1.0) -> Markup:
    """A horizontal bar chart as inline SVG: one bar per (label, value, text shown).

    The SVG is an image named by `label`; the same figures are always in a table next to
    it, so the chart is never the only way to read them. Colours come from the stylesheet
    (high-contrast mode included); each bar is labelled with its figure."""
    row_h, label_w, bar_w, text_w = 28, 96, 360, 120
    height = row_h * len(bars) + 8
    width = label_w + bar_w + text_w
    out = [f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, value, text) in enumerate(bars):
        y = 4 + i * row_h
        length = 0.0 if scale <= 0 else max(0.0, min(1.0, value / scale)) * bar_w
        out.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect class="track" x="{label_w}" y="{y + 4}" width="{bar_w}" height="{row_h - 10}"/>')
        out.append(f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row_h - 10}"/>')
        out.append(f'<text x="{label_w + bar_w + 8}" y="{y + 18}">{escape(text)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def overview_charts(stats: tuple[YearStats, ...]) -> dict[str, Markup]:
    oldest_first = list(reversed(stats))
    most = max((s.reports for s in stats), default=0)
    return {
        "reports": bar_chart("各年度收录报告数", [(f"{s.year}年", s.reports, f"{s.reports} 篇") for s in oldest_first],
                             scale=float(most)),
        "on_time": bar_chart("各年度按时公开率", [(f"{s.year}年", s.on_time_rate or 0.0, percent(s.on_time_rate))
                                         for s in oldest_first]),
    }


def parts_chart(stats: YearStats) -> Markup:
    return bar_chart(f"{stats.year}年五项法定内容覆盖率", [
        (f"第{n}项", stats.part_rate(n), f"{percent(stats.part_rate(n))}（{stats.parts[n - 1]}篇）") for n in PARTS])


def status(value: bool | None) -> str:
    """On-time status in words with a mark, never colour alone."""
    return {True: "✓ 按时", False: "✗ 逾期", None: "日期不详"}[value]


def mark(present: bool) -> str:
    return "✓ 有" if present else "✗ 无"
