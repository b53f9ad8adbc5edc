"""The 信息公开目录 (catalogue): its orders, its pre-rendered views, and the data files of
its client-side filter.

Pre-rendered views (pages that work without JavaScript, each paginated): every report in
each of the three orders (发布日期, 年度, 地区), and, in the default order (发布日期), the
reports of each year, each level, each province and each quality flag. Any other view (two
filters or more, a city or a county, another order of a filtered view) is made in the
browser by static/catalogue.js from the data files: the manifest (`index`: the filters'
values and the shards) and one shard per province and year, so a view reads only the
shards of its province and year when it names them. Every view has a URL: a pre-rendered
one its folder, another catalogue/?year=2024&province=430000&sort=region&page=2.

The three orders are ranks computed here once, so the pages and the browser sort alike.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from ..model import FLAGS, Entry, Place, Site
from .tree import division_level

LEVEL_SLUGS = {"镇": "zhen", "乡": "xiang", "街道": "jiedao", "县": "xian", "区": "qu", "市": "shi", "部门": "bumen"}
SORTS = {"date": "发布日期", "year": "年度", "region": "地区"}
SORT_VIEWS = {"date": "", "year": "sort-year", "region": "sort-region"}
UNDATED = "undated"


class View(NamedTuple):
    slug: str  # its folder below catalogue/ ("" for the default view)
    label: str  # what the page's heading adds: 「2024年」「镇」「湖南省」「晚于次年4月1日发布」
    field: str  # the filter: "" (none), "year", "level", "province", "flag"
    value: str  # its value in URLs: "2024", "zhen", "430000", "late"
    sort: str  # a key of SORTS


class Orders(NamedTuple):
    """The entries in each order, and each entry's rank in each (for the browser)."""

    date: tuple[Entry, ...]
    year: tuple[Entry, ...]
    region: tuple[Entry, ...]
    rank: dict[str, tuple[int, int, int]]  # entry id -> its (date, year, region) ranks


def tree_positions(site: Site) -> dict[str, int]:
    """Node key -> its position in the tree read top down (a node before its children,
    siblings in page order)."""
    places = {p.key: p for p in site.places}
    out: dict[str, int] = {}
    todo = list(reversed(site.roots))
    while todo:
        key = todo.pop()
        out[key] = len(out)
        todo.extend(reversed(places[key].children))
    return out


def orders(site: Site, positions: dict[str, int]) -> Orders:
    entries = sorted(site.entries, key=lambda e: e.id)
    date = tuple(sorted(entries, key=lambda e: (e.report.published or "", e.report.year or 0), reverse=True))
    region = tuple(sorted(entries, key=lambda e: (positions[e.place_key], -(e.report.year or 0))))
    year = tuple(sorted(region, key=lambda e: -(e.report.year or 0)))  # stable: by region within a year
    rank = {e.id: [0, 0, 0] for e in entries}
    for column, ordered in enumerate((date, year, region)):
        for k, entry in enumerate(ordered):
            rank[entry.id][column] = k
    return Orders(date, year, region, {key: tuple(value) for key, value in rank.items()})


def province_of(site: Site) -> dict[str, str]:
    """Node key -> the key of the top node it is under (a province, or the 未识别地区 list)."""
    places = {p.key: p for p in site.places}
    out: dict[str, str] = {}
    for key in site.roots:
        todo = [key]
        while todo:
            node = todo.pop()
            out[node] = key
            todo.extend(places[node].children)
    return out


def views(site: Site, ordered: Orders, root_of: dict[str, str]) -> list[tuple[View, tuple[Entry, ...]]]:
    """Every pre-rendered view with its entries, in a fixed order."""
    places = {p.key: p for p in site.places}
    out = [(View(SORT_VIEWS[sort], "", "", "", sort), getattr(ordered, sort)) for sort in SORTS]
    groups: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in ordered.date:
        r = entry.report
        groups["year", str(r.year) if r.year is not None else UNDATED].append(entry)
        if r.level in LEVEL_SLUGS:
            groups["level", LEVEL_SLUGS[r.level]].append(entry)
        groups["province", root_of[entry.place_key]].append(entry)
        for flag in r.flags:
            if flag in FLAGS:
                groups["flag", flag].append(entry)
    levels = {slug: level for level, slug in LEVEL_SLUGS.items()}
    flag_order = {flag: k for k, flag in enumerate(FLAGS)}
    order = {"year": 0, "level": 1, "province": 2, "flag": 3}

    def sort_key(item):
        (field, value), _ = item
        if field == "year":
            return order[field], -int(value) if value != UNDATED else 1
        if field == "level":
            return order[field], list(levels).index(value)
        if field == "flag":
            return order[field], flag_order[value]
        return order[field], value == "unknown", value

    for (field, value), members in sorted(groups.items(), key=sort_key):
        label = {"year": (f"{value}年" if value != UNDATED else "年度不详"), "level": levels.get(value, ""),
                 "province": places[value].name if value in places else value,
                 "flag": FLAGS.get(value, value)}[field]
        out.append((View(f"{field}-{value}", label, field, value, "date"), tuple(members)))
    return out


def facets(all_views: Iterable[View]) -> dict[str, list[View]]:
    """The filtered views by field, as the catalogue's links to them."""
    out: dict[str, list[View]] = {field: [] for field in ("year", "level", "province", "flag")}
    for view in all_views:
        if view.field:
            out[view.field].append(view)
    return out


# --- the client-side filter's data ------------------------------------------------------

FLAG_BITS = {flag: 1 << k for k, flag in enumerate(FLAGS)}
ROW_FIELDS = ("id", "title", "place", "year", "level", "published", "publisher", "flags", "city", "county",
              "rank_date", "rank_year", "rank_region", "derived")


def shard_name(province: str, year: int | None) -> str:
    return f"{province}-{year if year is not None else UNDATED}"


def shards(site: Site, root_of: dict[str, str]) -> dict[str, list[Entry]]:
    """Shard name -> its entries (in id order): one shard per province and year."""
    out: dict[str, list[Entry]] = defaultdict(list)
    for entry in site.entries:
        out[shard_name(root_of[entry.place_key], entry.report.year)].append(entry)
    return dict(sorted(out.items()))


def row(entry: Entry, label: str, publisher: str, chain: tuple[str, str], rank: tuple[int, int, int]) -> list:
    """One report as the filter's data: ROW_FIELDS, in that order."""
    r = entry.report
    mask = 0
    for flag in r.flags:
        mask |= FLAG_BITS.get(flag, 0)
    return [entry.id, r.title, label, r.year, LEVEL_SLUGS.get(r.level or "", ""), r.published or "", publisher,
            mask, chain[0], chain[1], *rank, 1 if r.title_derived else 0]


def shard_json(rows: list[list]) -> bytes:
    return _json({"fields": list(ROW_FIELDS), "rows": rows})


def manifest_json(site: Site, all_views: list[View], shard_sizes: dict[str, int], root_of: dict[str, str],
                  per_page: int) -> bytes:
    """The filter's manifest: the values of each filter (with their labels), which views
    are pre-rendered, the shards and their sizes, the cities and counties of each province."""
    places = {p.key: p for p in site.places}
    provinces = [[key, places[key].name] for key in site.roots]
    divisions: dict[str, list[list[str]]] = defaultdict(list)  # province -> [code, name, level, parent code]
    for place in site.places:
        level = division_level(place.code) if place.kind == "division" and place.code else 0
        if level in (2, 3):
            divisions[root_of[place.key]].append([place.code, place.name, "city" if level == 2 else "county",
                                                  place.parent or ""])
    years = sorted({e.report.year for e in site.entries if e.report.year is not None}, reverse=True)
    data = {
        "per_page": per_page,
        "provinces": provinces,
        "divisions": dict(sorted(divisions.items())),
        "years": years,
        "undated": any(e.report.year is None for e in site.entries),
        "levels": [[slug, level] for level, slug in LEVEL_SLUGS.items()],
        "flags": [[flag, label, FLAG_BITS[flag]] for flag, label in FLAGS.items()],
        "sorts": [[key, label] for key, label in SORTS.items()],
        "views": sorted(v.slug for v in all_views),
        "shards": shard_sizes,
    }
    return _json(data)


def chain_codes(place_key: str, places: dict[str, Place]) -> tuple[str, str]:
    """The city and the county a node is in (its own code when it is one), "" for none."""
    city = county = ""
    key: str | None = place_key
    while key is not None:
        place = places[key]
        level = division_level(place.code) if place.kind == "division" and place.code else 0
        if level == 2:
            city = city or place.code
        elif level == 3:
            county = county or place.code
        key = place.parent
    return city, county


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")

