"""Coverage: which units of a division have a report in this archive, year by year.

A county's grid has a row for the county itself (本级), one for each of its towns,
townships and streets as the gazetteer lists them, whether or not the archive has any of
their reports, and one for each place below it the gazetteer does not know; a province's
or a city's grid the same for its cities or counties. Each cell is what the archive holds
of that unit's own reports of that year: the report (linked; on time, late, or of unknown
date), or nothing, shown as 未收录 — never as 未公开: the archive is not complete.

Pure functions of the Site's nodes and the pinned gazetteer. A grid costs one look-up of
the division's children and one pass over the reports of its rows.
"""
from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from ..gazetteer import Gazetteer, gazetteer
from ..model import Entry, Place
from . import compliance

COVERAGE_LEVELS = ("省", "市", "县", "区")  # the levels of division whose page shows a grid


class Cell(NamedTuple):
    own: tuple[tuple[str, bool | None], ...]  # (entry id, on time) of the unit's own reports of the year
    below: int  # reports of that year of the places and departments below the unit


class Row(NamedTuple):
    name: str
    slug: str | None  # the node's URL below places/, when the archive has a node for the unit
    note: str  # "本级", "" (a unit of the gazetteer), "区划表未列" (a place the gazetteer does not list)
    total: int  # reports of the unit and all below it
    cells: tuple[Cell, ...]  # one per year


class Grid(NamedTuple):
    years: tuple[int, ...]  # oldest first
    rows: tuple[Row, ...]


def years_of(site_years) -> tuple[int, ...]:
    """The columns: every year from the archive's first report year to its last."""
    known = [year for year, _ in site_years]
    return tuple(range(min(known), max(known) + 1)) if known else ()


def grid(place: Place, places: dict[str, Place], by_id: dict[str, Entry], years: tuple[int, ...],
         below: dict[str, dict[int, int]], gz: Gazetteer | None = None) -> Grid | None:
    """The coverage grid of a province, city or county node (None for other nodes);
    `below`: node key -> year -> its reports below it (see counts_below)."""
    if place.kind != "division" or place.level not in COVERAGE_LEVELS or not years:
        return None
    gz = gz if gz is not None else gazetteer()
    rows = [_row(place.name, place, "本级", by_id, years, below)]
    for division in gz.children(place.code):
        rows.append(_row(division.name, places.get(division.code), "", by_id, years, below))
    for key in place.children:
        child = places[key]
        if child.kind == "unknown":
            rows.append(_row(child.name, child, "区划表未列", by_id, years, below))
    return Grid(years, tuple(rows))


def _row(name: str, node: Place | None, note: str, by_id: dict[str, Entry], years: tuple[int, ...],
         below: dict[str, dict[int, int]]) -> Row:
    if node is None:
        return Row(name, None, note, 0, tuple(Cell((), 0) for _ in years))
    found: dict[int, list[tuple[str, bool | None]]] = defaultdict(list)
    for entry_id in node.entry_ids:
        report = by_id[entry_id].report
        if report.year is not None:
            found[report.year].append((entry_id, compliance.on_time(report)))
    under = below.get(node.key, {})
    return Row(name, node.slug, note, node.total,
               tuple(Cell(tuple(found.get(year, ())), under.get(year, 0)) for year in years))


def counts_below(entries, places: dict[str, Place]) -> dict[str, dict[int, int]]:
    """Node key -> year -> how many reports of that year are below the node (not its own)."""
    out: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for entry in entries:
        year = entry.report.year
        if year is None:
            continue
        parent = places[entry.place_key].parent
        while parent is not None:
            out[parent][year] += 1
            parent = places[parent].parent
    return out


class Count(NamedTuple):
    reports: int
    late: int


def by_province(entries, root_of: dict[str, str], years: tuple[int, ...]) -> dict[str, tuple[Count, ...]]:
    """Top node key -> per year (as `years`): its reports and how many of them were late."""
    counts: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for entry in entries:
        year = entry.report.year
        if year is not None:
            cell = counts[root_of[entry.place_key]][year]
            cell[0] += 1
            cell[1] += compliance.on_time(entry.report) is False
    return {key: tuple(Count(*per_year.get(y, (0, 0))) for y in years) for key, per_year in counts.items()}
