"""The Whoosh index: judged queries agree with the truth; incremental updates; hostile input."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from site_builder.search import whoosh_index as si
from site_builder.search.whoosh_update import update_index

from search_fixtures import JUDGED, SPECS, make_site, truth


@pytest.fixture(scope="module")
def site():
    return make_site()


@pytest.fixture(scope="module")
def index_dir(site, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("whoosh") / "whoosh"
    stats = update_index(site, path)
    assert stats.added == len(SPECS) and stats.documents == len(SPECS)
    return path


def ids(results) -> set[str]:
    return {h.id for h in results.hits}


@pytest.mark.parametrize("query, expected, note", JUDGED, ids=[q for q, _, _ in JUDGED])
def test_judged_queries_agree_with_truth(site, index_dir, query, expected, note):
    found = ids(si.search(index_dir, query, limit=None))
    if expected is not None:
        assert truth(site, query) == expected, "the fixture no longer matches its judgement"
    assert found == truth(site, query)


def test_traditional_and_simplified_queries_return_the_same(index_dir):
    pairs = [("法治政府建設", "法治政府建设"), ("優化營商環境", "优化营商环境"), ("鎮", "镇"),
             ("行政復議", "行政复议"), ("縣司法局", "县司法局")]
    for trad, simp in pairs:
        a = si.search(index_dir, trad, limit=None)
        b = si.search(index_dir, simp, limit=None)
        assert [h.id for h in a.hits] == [h.id for h in b.hits] and a.total > 0


def test_several_terms_must_all_match(site, index_dir):
    found = ids(si.search(index_dir, "营商环境 放管服", limit=None))
    assert found == truth(site, "营商环境") & truth(site, "放管服") == {"jinshi-2021", "jinshi-2022", "anhua-2023"}


def test_filters_and_facets(site, index_dir):
    res = si.search(index_dir, "营商", filters={"year": "2023"}, limit=None, facets=True)
    assert ids(res) == truth(site, "营商", year="2023") == {"yuquan-2023", "anhua-2023", "qingshan-2023"}
    assert dict(res.facets["level"]) == {"镇": 1, "区": 1, "乡": 1}
    res = si.search(index_dir, "营商", filters={"level": "镇", "place": "金石镇"}, limit=None)
    assert ids(res) == {"jinshi-2021", "jinshi-2022"}
    all_years = si.search(index_dir, "营商", limit=None, facets=True)
    assert dict(all_years.facets["year"])["2023"] == 3


def test_part_restricts_the_match_to_a_mandated_part(index_dir):
    # 放管服 is in part 1 of jinshi-2021 but in part 4 (plans) of jinshi-2022 and anhua-2023.
    assert ids(si.search(index_dir, "放管服", part=4, limit=None)) == {"jinshi-2022", "anhua-2023"}
    assert ids(si.search(index_dir, "放管服", part=1, limit=None)) == {"jinshi-2021"}
    assert ids(si.search(index_dir, "镇", part=3, limit=None)) == {"jinshi-2021", "yanpi-2024"}


def test_title_matches_rank_first_and_order_is_stable(index_dir):
    res = si.search(index_dir, "金石镇", limit=None)
    assert [h.id for h in res.hits][:2] and all(h.place == "金石镇" for h in res.hits[:2])
    again = si.search(index_dir, "金石镇", limit=None)
    assert [(h.id, h.score) for h in res.hits] == [(h.id, h.score) for h in again.hits]


def test_pagination(index_dir):
    everything = si.search(index_dir, "镇", limit=None)
    page1 = si.search(index_dir, "镇", limit=2, offset=0)
    page2 = si.search(index_dir, "镇", limit=2, offset=2)
    assert page1.total == page2.total == everything.total > 4
    assert [h.id for h in page1.hits + page2.hits] == [h.id for h in everything.hits[:4]]


def test_snippets_highlight_the_query(index_dir):
    (hit,) = si.search(index_dir, "诉源治理").hits
    assert "<mark>诉源治理</mark>" in hit.snippet_html()
    assert hit.url == "reports/sifaju-2022/" and hit.title == "县司法局2022年法治政府建设年度报告"


@pytest.mark.parametrize("query", [
    "", " ", "\x00", "\x1b[31m", "营商\x00环境", "*", "?", "\"", "\"\"\"", "AND", "OR NOT", "(", ")",
    "title:营商", "营商~2", "营商^3", "[a TO z]", "{}", "\\", "营" * 10_000, "a" * 10_000,
    " ".join(["营商"] * 5000), "\ud800", "<script>alert(1)</script>", "%00", "'; DROP TABLE",
])
def test_hostile_queries_return_cleanly(index_dir, query):
    res = si.search(index_dir, query, limit=10, facets=True)
    assert res.total >= 0 and len(res.hits) <= 10


def test_hostile_html_query_is_escaped_in_snippets(index_dir):
    res = si.search(index_dir, "<script>营商", limit=None)
    assert all("<script>" not in h.snippet_html() for h in res.hits)


def test_incremental_update(tmp_path):
    path = tmp_path / "whoosh"
    update_index(make_site(), path)
    before = {p.name: p.stat().st_mtime_ns for p in path.iterdir()}

    # A rebuild with nothing changed touches no file.
    stats = update_index(make_site(), path)
    assert (stats.added, stats.updated, stats.deleted, stats.unchanged) == (0, 0, 0, len(SPECS))
    assert {p.name: p.stat().st_mtime_ns for p in path.iterdir()} == before

    # One report edited, one removed, one added.
    specs = [s for s in SPECS if s[0] != "wutitle-2021"]
    new = ("xinzhen-2024", "新镇", "镇", 2024, "2025-03-01", "simplified", {1: "新镇推行首违不罚清单制度。"})
    site = make_site(specs + [new], edit={"citangxu-2024": "开展首违不罚试点。"})
    stats = update_index(site, path)
    assert (stats.added, stats.updated, stats.deleted) == (1, 1, 1)
    assert ids(si.search(path, "首违不罚", limit=None)) == {"xinzhen-2024", "citangxu-2024"}
    assert ids(si.search(path, "最多跑一次", limit=None)) == set()
    assert si.search(path, "镇", limit=None).total == len(truth(site, "镇"))


def test_stale_lock_of_a_killed_build_is_recovered(tmp_path):
    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    # A killed writer leaves its lock file behind (the flock itself dies with the process).
    pid = os.fork()
    if pid == 0:  # child: take the lock and die without releasing it
        ix = si.open_index(path)
        ix.writer()
        os._exit(0)
    os.waitpid(pid, 0)
    assert (path / "MAIN_WRITELOCK").exists()
    stats = update_index(make_site(SPECS[:4]), path)
    assert stats.added == 1


def test_damaged_index_is_rebuilt(tmp_path):
    path = tmp_path / "whoosh"
    update_index(make_site(SPECS[:3]), path)
    for p in path.glob("*.toc"):
        p.write_bytes(b"garbage")
    stats = update_index(make_site(SPECS[:3]), path)
    assert stats.added == 3
    assert si.search(path, "金石镇", limit=None).total == 2


def test_summary_entries_are_read_through_report_of(tmp_path):
    from site_builder.model import Summary

    site = make_site(SPECS[:2])
    reports = {f"key-{e.id}": e.report for e in site.entries}
    entries = tuple(replace(e, report=Summary.of(e.report, f"key-{e.id}")) for e in site.entries)
    read = []

    def report_of(key):
        read.append(key)
        return reports[key]

    path = tmp_path / "whoosh"
    update_index(replace(site, entries=entries), path, report_of)
    assert sorted(read) == sorted(reports)
    read.clear()
    update_index(replace(site, entries=entries), path, report_of)
    assert read == []  # nothing changed: no report is read back
    assert ids(si.search(path, "楓橋經驗", limit=None)) == {"jinshi-2021"}


def test_a_built_archive_has_the_same_keys_in_both_indexes(tmp_path):
    """Every key of the published static index, read back from the Whoosh index of the
    same build: the same reports, weight codes, title flags, parts and positions."""
    import json

    from conftest import SAMPLES
    from site_builder.build import build
    from site_builder.search import static_format as fmt
    from site_builder.search.whoosh_segments import KeySource
    from site_builder.state import WHOOSH, state_dir

    out = tmp_path / "output"
    assert build(SAMPLES, out).ok
    root = out / "search" / "index"
    meta = json.loads((root / "meta.json").read_bytes())
    ids = {}
    for path in root.glob("i/*.json"):
        ids.update({int(n): i for n, i in json.loads(path.read_bytes()).items()})
    with si.open_index(state_dir(out) / WHOOSH).searcher() as searcher:
        source = KeySource(searcher.reader())
        id_of = source.columns(["id"])["id"]
        checked = 0
        for bucket in range(meta["buckets"]):
            group = root / fmt.parts_path(bucket >> meta["parts_shift"])
            masks = fmt.decode_parts(group.read_bytes()) if group.exists() else {}
            for k, entry in enumerate(fmt.decode_bucket((root / fmt.bucket_path(bucket)).read_bytes())):
                record = entry.record if not entry.external else fmt.decode_external(
                    (root / fmt.external_path(bucket, entry.external - 1)).read_bytes())
                if entry.key[0] == "\x03":
                    static = {ids[n]: (q, occ)
                              for n, q, occ in fmt.decode_pos_record(record, entry.documents)}
                    found = source.pos_record(entry.key)
                    whoosh = {}
                    for d, doc in enumerate(found.numbers.tolist()):
                        rows = range(found.first[d], found.first[d + 1])
                        whoosh[id_of[doc]] = (int(found.norms[d]), [(int(found.regions[r]), int(found.lines[r]) >> 3,
                                                                      int(found.offsets[r])) for r in rows])
                else:
                    mask = masks.get((bucket & ((1 << meta["parts_shift"]) - 1), k), [0] * entry.documents)
                    static = {ids[n]: (code, int(title), parts) for (n, code, title), parts in
                              zip(fmt.decode_doc_record(record, entry.documents), mask)}
                    found = source.doc_record(entry.key)
                    whoosh = {id_of[d]: (int(c), int(t), int(p)) for d, c, t, p in
                              zip(found.numbers.tolist(), found.codes, found.title, found.parts)}
                assert static == whoosh, entry.key
                checked += 1
    assert checked > 5000
