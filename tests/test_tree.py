"""The region tree (site/tree.py), the coverage grids (site/coverage.py) and the catalogue's
orders, views and data (site/catalogue.py), on summaries written here and the real gazetteer."""
from __future__ import annotations

import json
import random
from dataclasses import fields

import pytest

from site_builder.gazetteer import gazetteer
from site_builder.model import Summary
from site_builder.site import catalogue, coverage
from site_builder.site.assemble import assemble_site
from site_builder.site.tree import UNKNOWN, division_level


def division(name: str, county: str | None = None):
    """A township or county of the gazetteer by name (the one under `county` if given)."""
    gz = gazetteer()
    found = [d for d in gz.named(name) if d.name == name
             and (county is None or any(p.name == county for p in gz.chain(d)))]
    assert found, name
    return found[0]


def summary(source: str, place: str | None, year: int | None = 2023, *, code: str | None = None,
            region: str | None = None, level: str | None = None, issuer=(), published=None, flags=()) -> Summary:
    """A report's summary; `code`: its division in the gazetteer (its chain filled in)."""
    values = {f.name: None for f in fields(Summary) if f.init}
    values.update(key=source, source=source, format="txt", encoding="utf-8", sha256="", script="simplified",
                  title=f"{place}{year}年法治政府建设年度报告", title_derived=False, place=place, year=year,
                  published=published, issuer=tuple(issuer), issuer_derived=False, publisher=None,
                  flags=tuple(flags), parts=(1, 2, 3, 4), lead="", keywords=(), sentences=b"", region=region,
                  level=level or (place[-1] if place else None), place_known=False)
    if code:
        chain = gazetteer().chain(gazetteer().get(code))
        values.update(place_code=code, place_known=True, place_chain=tuple(d.name for d in chain),
                      place_chain_codes=tuple(d.code for d in chain))
    return Summary(**values)


def site_of(*summaries):
    site, problems = assemble_site(tuple(summaries))
    assert not problems
    return site


def nodes(site):
    return {p.key: p for p in site.places}


def test_same_name_places_stay_apart_by_code_under_their_own_chains():
    gz = gazetteer()
    twins = [d for d in gz.named("城关镇") if d.name == "城关镇"][:2]
    site = site_of(summary("a.txt", "城关镇", code=twins[0].code), summary("b.txt", "城关镇", code=twins[1].code))
    tree = nodes(site)
    assert {e.place_key for e in site.entries} == {twins[0].code, twins[1].code}
    for twin in twins:
        place = tree[twin.code]
        assert place.slug == twin.code and place.kind == "division" and place.level == "镇"
        chain = gz.chain(twin)
        assert place.parent == chain[-2].code and place.region == "".join(d.name for d in chain[:-1])
        up = place.parent
        while up is not None:  # every node above exists and counts the report
            assert twin.code in _below(tree, up) and tree[up].total >= 1
            up = tree[up].parent
    assert set(site.roots) == {gz.chain(t)[0].code for t in twins}


def _below(tree, key):
    out, todo = set(), [key]
    while todo:
        at = todo.pop()
        out.add(at)
        todo.extend(tree[at].children)
    return out


def test_departments_hang_under_their_county_by_their_own_name():
    county = division("衡阳县")
    site = site_of(
        summary("gov.txt", "衡阳县", code=county.code, level="县"),
        summary("sfj-2022.txt", "衡阳县", 2022, code=county.code, level="部门", issuer=("衡阳县司法局",)),
        summary("sfj-2023.txt", "衡阳县", 2023, code=county.code, level="部门",
                issuer=("中共衡阳县司法局党组", "衡阳市衡阳县司法局")),  # the party group is not the department
        summary("x.txt", "衡阳县", code=county.code, level="部门"),  # no issuer names it
    )
    tree = nodes(site)
    dept = tree[f"{county.code}/司法局"]
    assert (dept.name, dept.kind, dept.level, dept.slug) == ("衡阳县司法局", "department", "部门", f"{county.code}/sifaju")
    assert len(dept.entry_ids) == 2 and dept.parent == county.code
    assert tree[county.code].entry_ids == ("gov",)  # the county government's own report only
    assert tree[f"{county.code}/部门（名称不详）"].kind == "department"
    # prev/next stay within a node: the department's two years
    by_id = {e.id: e for e in site.entries}
    assert by_id["sfj-2022"].next_id == "sfj-2023" and by_id["sfj-2023"].prev_id == "sfj-2022"
    assert by_id["gov"].next_id is None and by_id["gov"].prev_id is None
    assert set(tree[county.code].children) == {f"{county.code}/司法局", f"{county.code}/部门（名称不详）"}


def test_unknown_places_hang_under_their_nearest_known_division_else_in_one_list():
    county = division("安化县")
    site = site_of(
        summary("a.txt", "城南区", region="安化县", level="区"),  # 安化县 is known, 城南区 is not
        summary("b.txt", "城南区", 2024, region="益阳市安化县", level="区"),  # the same place
        summary("c.txt", "青山镇", region="广东省某市"),  # only the province is known
        summary("d.txt", "青山镇", region="廣東省某市"),  # nothing is known
        summary("e.txt", "益阳市", region="湖南省益阳市", level="市"),  # unresolved, but its region ends in it
        summary("f.txt", None),  # no place at all
    )
    tree = nodes(site)
    node = tree[f"{county.code}/城南区"]
    assert node.kind == "unknown" and node.parent == county.code and node.slug == f"{county.code}/chengnanqu"
    assert len(node.entry_ids) == 2
    assert tree["440000/某市青山镇"].parent == "440000"
    listed = tree[UNKNOWN]
    assert listed.kind == "list" and site.roots[-1] == UNKNOWN
    assert {tree[k].name for k in listed.children} == {"廣東省某市青山镇", "未标明地点"}
    assert all(tree[k].slug.startswith("unknown/") for k in listed.children)
    by_id = {e.id: e for e in site.entries}
    assert by_id["e"].place_key == division("益阳市").code  # a place named as its region's own division


def test_no_two_nodes_share_a_url_and_none_is_a_page_number():
    site = site_of(*(summary(f"{k}.txt", name, region="廣東省") for k, name in enumerate(
        ["城南区", "城楠区", "成南区", "2024", "x"])))
    slugs = [p.slug for p in site.places]
    assert len(slugs) == len(set(slugs))
    assert all(not part.isdigit() for s in slugs if s.startswith("unknown/") for part in s.split("/")[1:])


def test_the_tree_is_the_same_for_the_reports_in_any_order():
    gz = gazetteer()
    towns = gz.children(division("衡阳县").code)[:8]
    reports = [summary(f"r{k}.txt", t.name, 2019 + k % 5, code=t.code) for k, t in enumerate(towns)]
    reports += [summary("u.txt", "新设镇", region="衡阳县"), summary("l.txt", "某镇", region="某县")]
    first = site_of(*reports)
    random.Random(3).shuffle(reports)
    assert site_of(*reports) == first


def test_an_mca_code_shows_its_level():
    gz = gazetteer()
    todo, checked = list(gz.children(None)), 0
    while todo:
        d = todo.pop()
        assert division_level(d.code) == d.level, d
        todo.extend(gz.children(d.code))
        checked += 1
    assert checked > 40000


def test_a_county_grid_has_every_town_of_the_gazetteer_and_each_report_of_each_year():
    gz = gazetteer()
    county = division("衡阳县")
    towns = gz.children(county.code)
    site = site_of(
        summary("a19.txt", towns[0].name, 2019, code=towns[0].code, published="2020-03-01"),
        summary("a21.txt", towns[0].name, 2021, code=towns[0].code, published="2022-05-01", flags=("late",)),
        summary("b21.txt", towns[1].name, 2021, code=towns[1].code),
        summary("n21.txt", "新设镇", 2021, region="衡阳县"),
        summary("c20.txt", "衡阳县", 2020, code=county.code, level="县", published="2021-03-01"),
    )
    tree, by_id = nodes(site), {e.id: e for e in site.entries}
    years = coverage.years_of(site.years)
    assert years == (2019, 2020, 2021)
    below = coverage.counts_below(site.entries, tree)
    grid = coverage.grid(tree[county.code], tree, by_id, years, below)
    names = [row.name for row in grid.rows]
    assert names == ["衡阳县", *(t.name for t in towns), "新设镇"]  # 本级, the gazetteer's towns, then the rest
    rows = {row.name: row for row in grid.rows}
    assert [c.own for c in rows[towns[0].name].cells] == [(("a19", True),), (), (("a21", False),)]
    assert rows[towns[1].name].cells[2].own == (("b21", None),)  # no publication date: neither on time nor late
    assert all(not c.own and not c.below for c in rows[towns[2].name].cells) and rows[towns[2].name].total == 0
    assert rows[towns[2].name].slug is None  # no node: no link
    assert rows["衡阳县"].note == "本级" and rows["衡阳县"].cells[1].own == (("c20", True),)
    assert [c.below for c in rows["衡阳县"].cells] == [1, 0, 3]
    assert rows["新设镇"].note == "区划表未列"
    assert coverage.grid(tree[towns[0].code], tree, by_id, years, below) is None  # a town has a timeline


def test_catalogue_views_orders_and_shards_agree():
    gz = gazetteer()
    towns = gz.children(division("衡阳县").code)[:6] + gz.children(division("潮安区").code)[:6]
    reports = [summary(f"r{k:02d}.txt", t.name, 2019 + k % 4, code=t.code,
                       published=f"{2020 + k % 4}-0{1 + k % 9}-1{k % 10}", flags=("late",) if k % 3 == 0 else ())
               for k, t in enumerate(towns)] + [summary("x.txt", "某镇", None, region="某县")]
    site = site_of(*reports)
    positions = catalogue.tree_positions(site)
    orders = catalogue.orders(site, positions)
    root_of = catalogue.province_of(site)
    views = catalogue.views(site, orders, root_of)
    by_slug = {v.slug: rows for v, rows in views}
    every = sorted(e.id for e in site.entries)
    for sort in ("date", "year", "region"):
        assert sorted(e.id for e in getattr(orders, sort)) == every
    # a filter's views split the reports; each keeps the date order
    for field in ("year", "province"):
        parts = [rows for v, rows in views if v.field == field]
        assert sorted(e.id for rows in parts for e in rows) == every
        for rows in parts:
            assert [orders.rank[e.id][0] for e in rows] == sorted(orders.rank[e.id][0] for e in rows)
    assert {e.id for e in by_slug["flag-late"]} == {e.id for e in site.entries if "late" in e.report.flags}
    assert "year-undated" in by_slug and "province-unknown" in by_slug
    dates = [e.report.published or "" for e in orders.date]
    assert dates == sorted(dates, reverse=True)
    regions = [positions[e.place_key] for e in orders.region]
    assert regions == sorted(regions)
    years = [-(e.report.year or 0) for e in orders.year]
    assert years == sorted(years)
    # the shards hold every report once, with the ranks the pages sort by
    places = nodes(site)
    shards = catalogue.shards(site, root_of)
    rows = [catalogue.row(e, e.report.place or "", "", catalogue.chain_codes(e.place_key, places), orders.rank[e.id])
            for members in shards.values() for e in members]
    assert sorted(r[0] for r in rows) == every
    data = json.loads(catalogue.shard_json(rows))
    assert data["fields"] == list(catalogue.ROW_FIELDS) and len(data["rows"]) == len(every)
    row = next(r for r in data["rows"] if r[0] == "r00")
    assert row[catalogue.ROW_FIELDS.index("county")] == division("衡阳县").code
    assert row[catalogue.ROW_FIELDS.index("city")] == division("衡阳市").code
    assert row[catalogue.ROW_FIELDS.index("flags")] & catalogue.FLAG_BITS["late"]
    manifest = json.loads(catalogue.manifest_json(site, [v for v, _ in views], {k: len(v) for k, v in shards.items()},
                                                  root_of, 100))
    assert manifest["provinces"][-1] == ["unknown", "未识别地区"] and manifest["undated"] is True
    assert set(manifest["views"]) == set(by_slug)


@pytest.mark.parametrize("count", [0, 1, 250])
def test_listing_pages_never_hold_more_than_200_rows(count):
    from site_builder.render.pages import MAX_ROWS, chunks

    pages = chunks(list(range(count)), 1000)
    assert max(len(p) for p in pages) <= MAX_ROWS == 200 and sum(len(p) for p in pages) == count and pages
